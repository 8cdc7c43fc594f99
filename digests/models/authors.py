"""What we asked arXiv about an author: one row per author name key, its state and its papers."""

from __future__ import annotations

from django.db import models

__all__ = ["AuthorBackfill"]


class AuthorBackfill(models.Model):
    """An author's papers looked up through the arXiv API's author search (`au:`).

    The author page of a name we hold few or no papers of queues the lookup; the papers found
    are kept as `Paper` rows of no announcement day (as seed papers are) and listed here, so the
    page shows them without asking arXiv again until the row is REFRESH_AFTER old.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    key = models.CharField(max_length=200, unique=True, help_text="The name as matching keys it.")
    name = models.CharField(max_length=200, help_text="The name as first asked for.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    requested_at = models.DateTimeField()
    fetched_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    arxiv_ids = models.JSONField(default=list, blank=True, help_text="The author's papers found.")
    api_requests = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"
