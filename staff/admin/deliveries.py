"""Deliveries: stuck ones one filter away; failed ones retried once the address is fixed."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from digests.delivery import deliveries_stuck
from digests.models import Delivery
from staff.actions import RetryRefused, delivery_retry

__all__ = ["DeliveryAdmin", "StuckFilter"]


class StuckFilter(admin.SimpleListFilter):
    """Deliveries left mid-send (a crash, or an ESP that never answered): check, never resend."""

    title = "needs checking"
    parameter_name = "stuck"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "stuck in sending")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(pk__in=deliveries_stuck().values("pk"))
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "digest",
        "status",
        "attempts",
        "esp_message_id",
        "last_error",
        "created_at",
        "claimed_at",
        "sent_at",
        "opened_at",
        "clicked_at",
    ]
    list_select_related = ["digest__subscriber"]
    list_filter = [StuckFilter, "status", "attempts", "sent_at", "digest__issue_date"]
    date_hierarchy = "created_at"
    search_fields = ["esp_message_id", "digest__subscriber__email"]
    raw_id_fields = ["digest"]
    # The sending step owns these: editing them by hand would break the at-most-once claim.
    readonly_fields = [
        "created_at",
        "claimed_at",
        "sent_at",
        "opened_at",
        "clicked_at",
        "updated_at",
    ]
    actions = ["retry"]

    @admin.action(description="Retry: queue again and send (failed or bounced only)")
    def retry(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        queued = 0
        for delivery_id in queryset.values_list("pk", flat=True):
            try:
                delivery_retry(delivery_id=delivery_id, by=str(request.user))
            except RetryRefused as refusal:
                self.message_user(request, f"Not retried: {refusal}", messages.ERROR)
            else:
                queued += 1
        if queued:
            self.message_user(
                request, f"{queued} deliveries queued again; they are sent now.", messages.SUCCESS
            )
