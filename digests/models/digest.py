"""One subscriber's digest for one issue date, its ranked items, its delivery and feedback."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

__all__ = ["Delivery", "Digest", "DigestItem", "Feedback"]


class DigestStatus(models.TextChoices):
    ASSEMBLED = "assembled", "assembled"
    EMPTY = "empty", "nothing above the threshold"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"


class Digest(models.Model):
    Status = DigestStatus

    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="digests"
    )
    issue_date = models.DateField(help_text="The arXiv announcement day it covers.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ASSEMBLED)
    brief = models.TextField(blank=True)
    note = models.TextField(blank=True, help_text="Why it is empty or failed.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issue_date", "subscriber_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "issue_date"], name="digest_one_per_subscriber_and_day"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in DigestStatus]),
                name="digest_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issue_date} for {self.subscriber}"


class DigestItem(models.Model):
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="items")
    paper = models.ForeignKey(
        "digests.Paper", on_delete=models.PROTECT, related_name="digest_items"
    )
    rank = models.PositiveSmallIntegerField(help_text="1 is the most relevant.")
    relevance = models.PositiveSmallIntegerField(help_text="0–100.")
    reason = models.TextField(blank=True)
    topic = models.ForeignKey(
        "digests.Topic", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["digest_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["digest", "rank"], name="digest_item_rank_unique"),
            models.UniqueConstraint(fields=["digest", "paper"], name="digest_item_paper_unique"),
            models.CheckConstraint(
                condition=models.Q(relevance__gte=0, relevance__lte=100),
                name="digest_item_relevance_range",
            ),
            models.CheckConstraint(
                condition=models.Q(rank__gte=1), name="digest_item_rank_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.paper_id} ({self.relevance}%)"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    SENDING = "sending", "sending (claimed)"
    SENT = "sent", "sent"
    DELIVERED = "delivered", "delivered"
    BOUNCED = "bounced", "bounced"
    COMPLAINED = "complained", "complained"
    FAILED = "failed", "failed"


class Delivery(models.Model):
    """The sending of one digest: claimed before the ESP call, so it happens at most once."""

    Status = DeliveryStatus

    digest = models.OneToOneField(Digest, on_delete=models.CASCADE, related_name="delivery")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    esp_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="After a transient ESP error: when to try again."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True, help_text="First open reported.")
    clicked_at = models.DateTimeField(null=True, blank=True, help_text="First click reported.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in DeliveryStatus]),
                name="delivery_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.digest} — {self.status}"


class FeedbackSignal(models.TextChoices):
    MORE = "more", "more like this"
    LESS = "less", "less like this"
    CLICK = "click", "clicked in the e-mail"  # reported by the ESP; never overrides the above


class Feedback(models.Model):
    Signal = FeedbackSignal

    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="feedback"
    )
    paper = models.ForeignKey("digests.Paper", on_delete=models.CASCADE, related_name="feedback")
    signal = models.CharField(max_length=8, choices=Signal.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "feedback"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "paper"], name="feedback_one_per_paper"),
            models.CheckConstraint(
                condition=models.Q(signal__in=[s.value for s in FeedbackSignal]),
                name="feedback_signal_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber}: {self.signal} {self.paper_id}"
