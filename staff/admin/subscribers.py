"""Admin for subscribers and their interest profiles, with the staff's actions on them.

The actions call `staff.actions`; the extra pages (a day's digest preview, import, export)
live in `staff.subscriber_pages`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from digests.models import Delivery, Digest
from staff import subscriber_pages as admin_pages
from staff.actions import (
    subscriber_signin_link_resend,
    subscriber_staff_suppress,
    subscriber_unsuppress,
)
from subscribers.models import InterestProfile, Subscriber
from subscribers.profile_fields import SUBSCRIBER_FIELDS, Group, Stored, group_fields

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec

__all__ = ["InterestProfileAdmin", "InterestProfileInline", "SubscriberAdmin"]

RECENT_DIGESTS = 30

# The profile's fields come from `profile_fields.SETTINGS`, by group: none can be left out.
PROFILE_FIELDSETS: _FieldsetSpec = [
    (None, {"fields": group_fields(Group.SUBJECTS, stored=Stored.PROFILE)}),
    ("People and sources", {"fields": group_fields(Group.SOURCES, stored=Stored.PROFILE)}),
    ("The digest", {"fields": (*group_fields(Group.DIGEST, stored=Stored.PROFILE), "updated_at")}),
]


class InterestProfileInline(admin.StackedInline):
    model = InterestProfile
    can_delete = False
    fieldsets = PROFILE_FIELDSETS
    autocomplete_fields = ["topics"]
    readonly_fields = ["updated_at"]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", *SUBSCRIBER_FIELDS, "created_at", "confirmed_at"]
    list_filter = ["status", "frequency", "language"]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "confirmed_at", "unsubscribed_at", "recent_digests"]
    fieldsets = [
        (None, {"fields": ["email", "status"]}),
        ("Delivery", {"fields": group_fields(Group.DELIVERY, stored=Stored.SUBSCRIBER)}),
        ("History", {"fields": ["created_at", "confirmed_at", "unsubscribed_at"]}),
        ("Digests and deliveries", {"fields": ["recent_digests"]}),
    ]
    inlines = [InterestProfileInline]
    actions = ["preview_digest", "resend_signin_link", "suppress", "unsuppress"]
    change_form_template = "admin/subscribers/subscriber/change_form.html"
    change_list_template = "admin/subscribers/subscriber/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:subscriber_id>/preview/",
                view(self.preview_view),
                name="subscribers_subscriber_preview",
            ),
            path("import/", view(self.import_view), name="subscribers_subscriber_import"),
            path("export/", view(self.export_view), name="subscribers_subscriber_export"),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, subscriber_id: int) -> HttpResponse:
        return admin_pages.preview_page(self, request, subscriber_id=subscriber_id)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        return admin_pages.import_page(self, request)

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        return admin_pages.export_download(self, request)

    @admin.display(description="latest digests")
    def recent_digests(self, subscriber: Subscriber) -> SafeString | str:
        """The latest digests with their delivery, in one query."""
        if not subscriber.pk:
            return "—"
        digests = (
            Digest.objects.filter(subscriber=subscriber)
            .select_related("delivery")
            .annotate(item_count=Count("items"))
            .order_by("-issue_date")[:RECENT_DIGESTS]
        )
        rows = [(*_digest_cells(digest), *_delivery_cells(digest)) for digest in digests]
        if not rows:
            return "No digest yet."
        body = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td>'
            '<td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
            rows,
        )
        return format_html(
            "<table><thead><tr><th>issue</th><th>status</th><th>items</th><th>delivery</th>"
            "<th>attempts</th><th>last error</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    @admin.action(description="Preview the digest for a day (one subscriber)")
    def preview_digest(
        self, request: HttpRequest, queryset: QuerySet[Subscriber]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one subscriber.", messages.WARNING)
            return None
        url = reverse("admin:subscribers_subscriber_preview", args=[queryset.get().pk])
        return HttpResponseRedirect(url)

    @admin.action(description="Resend a magic sign-in link")
    def resend_signin_link(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        for subscriber in queryset:
            if subscriber_signin_link_resend(subscriber=subscriber):
                self.message_user(request, f"Sign-in link sent to {subscriber.email}.")
            else:
                self.message_user(
                    request,
                    f"Not sent to {subscriber.email}: {subscriber.get_status_display()} "
                    "subscribers cannot sign in.",
                    messages.WARNING,
                )

    @admin.action(description="Suppress (stop every e-mail, as a bounce does)")
    def suppress(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        changed = sum(subscriber_staff_suppress(subscriber=s) for s in queryset)
        self.message_user(request, f"{changed} subscribers suppressed.")

    @admin.action(description="Unsuppress (the address was fixed)")
    def unsuppress(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        changed = sum(subscriber_unsuppress(subscriber=s) for s in queryset)
        self.message_user(
            request,
            f"{changed} subscribers unsuppressed (active if confirmed, else pending); "
            "failed deliveries can now be retried from the delivery list.",
        )

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list, change: bool
    ) -> None:
        """Give every subscriber a profile, even when the inline was left untouched."""
        super().save_related(request, form, formsets, change)
        InterestProfile.objects.get_or_create(subscriber=form.instance)


def _digest_cells(digest: Digest) -> tuple[str, str, str, int]:
    url = reverse("admin:digests_digest_change", args=[digest.pk])
    items: int = digest.item_count  # type: ignore[attr-defined]  # annotated by the query
    return (url, digest.issue_date.isoformat(), digest.get_status_display(), items)


def _delivery_cells(digest: Digest) -> tuple[str, str, int | str, str]:
    # select_related caches a missing reverse one-to-one too, so this costs no query.
    try:
        delivery = digest.delivery
    except Delivery.DoesNotExist:
        return ("#", "—", "", "")
    url = reverse("admin:digests_delivery_change", args=[delivery.pk])
    return (url, delivery.get_status_display(), delivery.attempts, delivery.last_error[:120])


@admin.register(InterestProfile)
class InterestProfileAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "topic_count", "max_items", "min_relevance", "updated_at"]
    list_select_related = ["subscriber"]
    list_filter = ["topics"]
    search_fields = ["subscriber__email", "interests"]
    autocomplete_fields = ["subscriber", "topics"]
    readonly_fields = ["updated_at"]
    fieldsets = [(None, {"fields": ["subscriber"]}), *PROFILE_FIELDSETS]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InterestProfile]:
        return super().get_queryset(request).annotate(topic_count=Count("topics", distinct=True))

    @admin.display(description="topics", ordering="topic_count")
    def topic_count(self, profile: InterestProfile) -> int:
        return profile.topic_count  # type: ignore[attr-defined]  # annotated by the queryset
