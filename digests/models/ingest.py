"""What each announcement day's ingestion found, so staff can see why a day has no digest."""

from __future__ import annotations

from django.db import models

__all__ = ["IngestDay", "IngestStatus"]


class IngestStatus(models.TextChoices):
    ANNOUNCED = "announced", "announced and ingested"
    NONE = "none", "no announcement (weekend or holiday)"
    STALE = "stale", "feed still held the previous announcement"
    FAILED = "failed", "arXiv unavailable"


class IngestDay(models.Model):
    Status = IngestStatus

    date = models.DateField(unique=True, help_text="arXiv's announcement day (US Eastern).")
    status = models.CharField(max_length=16, choices=IngestStatus.choices)
    categories = models.JSONField(default=list, blank=True)
    listed = models.PositiveIntegerField(default=0, help_text="Distinct papers in the feeds.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    api_requests = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True, help_text="Why the day is stale, empty or failed.")
    skipped = models.JSONField(
        default=list,
        blank=True,
        help_text='Records not stored, and why: [{"arxiv_id": …, "reason": …}].',
    )
    repaired = models.JSONField(
        default=list,
        blank=True,
        help_text='Fields bounded or dropped: [{"arxiv_id": …, "field": …, "reason": …}].',
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(
        null=True, blank=True, help_text="Enriched: digests of this day may go out from then on."
    )

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in IngestStatus]),
                name="ingest_day_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.get_status_display()}"
