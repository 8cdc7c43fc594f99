"""The brief of the day: one per topic, language and announcement day, never per reader."""

from __future__ import annotations

from django.db import models

__all__ = ["TopicBrief"]


class TopicBrief(models.Model):
    topic = models.ForeignKey("digests.Topic", on_delete=models.CASCADE, related_name="briefs")
    date = models.DateField()
    language = models.CharField(max_length=16)
    prompt_version = models.CharField(max_length=32)
    text = models.TextField()
    paper_ids = models.JSONField(default=list, help_text="The papers, in the order cited [1], [2]…")
    model = models.CharField(max_length=128, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "topic_id", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "date", "language", "prompt_version"],
                name="topic_brief_one_per_topic_day_language_prompt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.topic.slug} [{self.language}]"
