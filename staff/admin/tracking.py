"""Tracking decisions: what each bounce, complaint or ESP unsubscribe did to a reader, and why."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from digests.models import TrackingDecision

__all__ = ["TrackingDecisionAdmin"]


@admin.register(TrackingDecision)
class TrackingDecisionAdmin(admin.ModelAdmin):
    """Read-only: the record of what the webhook decided is evidence, not something to edit."""

    list_display = [
        "received_at",
        "esp",
        "event_type",
        "esp_event_type",
        "message_id",
        "subscriber",
        "meaning",
        "decision",
        "reason",
    ]
    list_select_related = ["subscriber"]
    list_filter = ["decision", "meaning", "esp", "event_type", "received_at"]
    date_hierarchy = "received_at"
    search_fields = ["message_id", "subscriber__email"]
    readonly_fields = [field.name for field in TrackingDecision._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
