"""What we decided on each ESP event that could stop a reader's mail, with the event it read."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class EventMeaning(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", "hard bounce"
    SOFT_BOUNCE = "soft_bounce", "soft or transient bounce"
    COMPLAINT = "complaint", "complaint"
    UNSUBSCRIBE = "unsubscribe", "unsubscribe at the ESP"


class Decision(models.TextChoices):
    SUPPRESSED = "suppressed", "suppressed"
    COUNTED = "counted", "counted (below the soft-bounce limit)"
    UNSUBSCRIBED = "unsubscribed", "unsubscribed"
    UNCHANGED = "unchanged", "unchanged (already stopped)"
    IGNORED = "ignored", "ignored"


class TrackingDecision(models.Model):
    """One bounce, complaint or unsubscribe event from the ESP and what it did to the reader.

    Events that match no delivery of ours are recorded too (decision "ignored"), so staff can
    see what was refused and why; they change nothing.
    """

    Meaning = EventMeaning
    Decision = Decision

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    esp = models.CharField(max_length=32)
    event_type = models.CharField(max_length=32, help_text="Anymail's normalised event type.")
    esp_event_type = models.CharField(
        max_length=64, blank=True, help_text="The ESP's own name for it (e.g. SoftBounce)."
    )
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    occurred_at = models.DateTimeField(null=True, blank=True, help_text="As the ESP reports it.")
    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tracking_decisions",
    )
    delivery = models.ForeignKey(
        "digests.Delivery",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tracking_decisions",
    )
    meaning = models.CharField(max_length=16, choices=EventMeaning.choices)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason = models.CharField(max_length=500, help_text="Why we decided so.")
    esp_reason = models.CharField(
        max_length=500, blank=True, help_text="The ESP's description or the server's reply."
    )

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(meaning__in=[m.value for m in EventMeaning]),
                name="tracking_decision_meaning_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(decision__in=[d.value for d in Decision]),
                name="tracking_decision_decision_valid",
            ),
        ]
        indexes = [models.Index(fields=["subscriber", "meaning", "received_at"])]

    def __str__(self) -> str:
        return f"{self.esp} {self.event_type} → {self.decision}"
