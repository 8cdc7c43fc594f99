"""A paper's versions as announced, what changed between two of them, and the "updated" notes
of a digest: a new version of a paper its reader got before."""

from __future__ import annotations

from django.db import models

__all__ = ["DigestUpdate", "PaperVersion", "VersionChange"]


class PaperVersion(models.Model):
    """One version of a paper: the day arXiv announced it and its text then.

    `Paper` holds the latest version; these rows keep the earlier ones (their abstract and
    comment, to say what a new version changed) and each version's own announcement day, which
    a later version never moves.
    """

    paper = models.ForeignKey("digests.Paper", on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveSmallIntegerField()
    announce_date = models.DateField(
        null=True, blank=True, db_index=True, help_text="None: held, never seen announced."
    )
    announce_type = models.CharField(max_length=16, blank=True)
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paper_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "version"], name="paper_version_unique"),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="paper_version_row_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.paper_id} v{self.version} ({self.announce_date})"


class VersionChange(models.Model):
    """The LLM's one sentence on what a version changed against an earlier one, per language:
    asked once per (paper, version pair, language, prompt version)."""

    class Status(models.TextChoices):
        OK = "ok", "ok"
        FAILED = "failed", "failed (the comment's change is shown)"

    paper = models.ForeignKey(
        "digests.Paper", on_delete=models.CASCADE, related_name="version_changes"
    )
    old_version = models.PositiveSmallIntegerField()
    new_version = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=16)
    prompt_version = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OK)
    sentence = models.TextField(blank=True)
    model = models.CharField(max_length=128, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["paper", "old_version", "new_version", "language", "prompt_version"],
                name="version_change_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.paper_id} v{self.old_version}→v{self.new_version} [{self.language}]"


class DigestUpdate(models.Model):
    """In a digest, below its new papers: a new version of a paper the reader got before."""

    digest = models.ForeignKey("digests.Digest", on_delete=models.CASCADE, related_name="updates")
    paper = models.ForeignKey(
        "digests.Paper", on_delete=models.CASCADE, related_name="digest_updates"
    )
    version = models.PositiveSmallIntegerField(help_text="The version announced now.")
    previous_version = models.PositiveSmallIntegerField(help_text="The version the reader got.")
    previous_date = models.DateField(help_text="The issue date of the digest they got it in.")

    class Meta:
        ordering = ["digest_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["digest", "paper"], name="digest_update_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.paper_id} v{self.previous_version}→v{self.version} in {self.digest_id}"
