"""Held sign-ups: an anonymous sign-up for an address we already know, waiting for the
confirmation link mailed to that address (`subscribers.signup`). Read-only: the link applies it,
`purge_unconfirmed` removes it once the link has expired."""

from __future__ import annotations

from django.contrib import admin

from staff.admin.versions import ReadOnlyAdmin
from subscribers.models import HeldSignup

__all__ = ["HeldSignupAdmin"]


@admin.register(HeldSignup)
class HeldSignupAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "subscriber", "subscriber_status", "fields_held", "topic_count"]
    list_select_related = ["subscriber"]
    list_filter = ["subscriber__status", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["subscriber__email"]

    @admin.display(description="reader's status", ordering="subscriber__status")
    def subscriber_status(self, row: HeldSignup) -> str:
        return row.subscriber.get_status_display()

    @admin.display(description="fields it would set")
    def fields_held(self, row: HeldSignup) -> str:
        names = sorted({*row.subscriber_fields, *row.profile_fields})
        return ", ".join(names) or "—"

    @admin.display(description="topics")
    def topic_count(self, row: HeldSignup) -> int:
        return len(row.topic_ids)
