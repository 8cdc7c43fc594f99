"""Papers a reader saved for later: their reading list, exported to a reference manager."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

__all__ = ["SavedPaper"]


class SavedPaper(models.Model):
    """One paper on one reader's reading list (saving also counts as "more like this")."""

    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="saved_papers"
    )
    paper = models.ForeignKey("digests.Paper", on_delete=models.CASCADE, related_name="saved_by")
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-saved_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "paper"], name="saved_paper_once"),
        ]
        indexes = [models.Index(fields=["subscriber", "-saved_at"], name="saved_paper_list")]

    def __str__(self) -> str:
        return f"{self.subscriber_id} saved {self.paper_id}"
