"""Papers as announced (arXiv, bioRxiv, medRxiv), and their per-language enrichment."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["AnnounceType", "Enrichment", "Paper", "ResultType", "Source", "announced_between"]


def announced_between(first: dt.date, last: dt.date) -> models.Q:
    """Papers announced in [first, last]: at their latest announcement, or first announced
    there (a later version moves the one, never the other)."""
    return models.Q(announce_date__range=(first, last)) | models.Q(
        first_announced__range=(first, last)
    )


class AnnounceType(models.TextChoices):
    NEW = "new", _("new")
    CROSS = "cross", _("cross-list")
    REPLACE = "replace", _("replacement")
    REPLACE_CROSS = "replace-cross", _("replacement of a cross-list")


class Source(models.TextChoices):
    """Where a paper comes from; its `arxiv_id` is the arXiv id, or the DOI for the others."""

    ARXIV = "arxiv", "arXiv"
    BIORXIV = "biorxiv", "bioRxiv"
    MEDRXIV = "medrxiv", "medRxiv"


class ResultType(models.TextChoices):
    """bioRxiv's article type; arXiv and medRxiv papers have none ("")."""

    NONE = "", "-"
    NEW = "new", _("new results")
    CONFIRMATORY = "confirmatory", _("confirmatory results")
    CONTRADICTORY = "contradictory", _("contradictory results")
    WITHDRAWN = "withdrawn", _("withdrawn")


# The servers' own pages: abstract, full text and PDF of a DOI's version.
_SERVER_HOSTS = {"biorxiv": "www.biorxiv.org", "medrxiv": "www.medrxiv.org"}


class Paper(models.Model):
    """One paper at its latest known version (`source` says whose: `arxiv_id` is the arXiv id,
    or the DOI of a bioRxiv or medRxiv preprint, the name kept for the many places that read
    it); each version's announcement and text kept
    in `versions` (`PaperVersion`).

    `announce_date` is the paper's latest announcement (what that day's pipeline reads: new
    papers, cross-lists and replacements); `first_announced` the first, which never moves.

    A paper fetched only because a reader gave it as a seed (`digests.arxiv.seeds`) has no
    announce date and no announce type: it belongs to no announcement day, so no day's query
    (digests, briefs, topic pages, counts) sees it. Ingestion dates it if arXiv announces it.
    """

    arxiv_id = models.CharField(
        max_length=128, unique=True, help_text="Without version: the arXiv id, or the DOI."
    )
    source = models.CharField(
        max_length=16, choices=Source.choices, default=Source.ARXIV, db_index=True
    )
    result_type = models.CharField(
        max_length=16, choices=ResultType.choices, blank=True, default=""
    )
    version = models.PositiveSmallIntegerField(default=1)
    version_history = models.JSONField(default=list, blank=True, help_text="Earlier versions.")
    title = models.TextField()
    abstract = models.TextField(blank=True)
    authors = models.JSONField(
        default=list, blank=True, help_text='[{"name": …, "affiliations": […]}, …]'
    )
    categories = models.JSONField(default=list, blank=True)
    primary_category = models.CharField(max_length=64, blank=True)
    comment = models.TextField(blank=True)
    journal_ref = models.TextField(blank=True)
    doi = models.CharField(max_length=255, blank=True)
    license = models.URLField(blank=True)
    affiliations_checked_at = models.DateTimeField(
        null=True, blank=True, help_text="When the paper's HTML page was read for affiliations."
    )
    affiliations_version = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="The version whose affiliations we hold (from its API record or HTML page); "
        "below `version`, its page is still to be read.",
    )
    embedding = models.BinaryField(
        null=True, blank=True, help_text="float32 vector of title+abstract."
    )
    embedding_model = models.CharField(max_length=128, blank=True)
    published = models.DateTimeField(null=True, blank=True, help_text="First version.")
    updated = models.DateTimeField(null=True, blank=True, help_text="Current version.")
    announce_date = models.DateField(
        null=True, blank=True, db_index=True, help_text="None: fetched as a seed, not announced."
    )
    announce_type = models.CharField(max_length=16, choices=AnnounceType.choices, blank=True)
    first_announced = models.DateField(
        null=True,
        blank=True,
        db_index=True,
        help_text="The day arXiv first announced the paper; a new version never moves it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = [models.F("announce_date").desc(nulls_last=True), "arxiv_id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        announce_date__isnull=False,
                        announce_type__in=[t.value for t in AnnounceType],
                    )
                    | models.Q(announce_date__isnull=True, announce_type="")
                ),
                name="paper_announced_or_seed_only",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="paper_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.versioned_id} {self.title[:60]}"

    @property
    def announced(self) -> bool:
        """False for a paper fetched only as a seed (see the class docstring)."""
        return self.announce_date is not None

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"

    @property
    def is_arxiv(self) -> bool:
        return self.source == Source.ARXIV

    @property
    def source_label(self) -> str:
        return dict(Source.choices).get(self.source, self.source)

    @property
    def label(self) -> str:
        """How the paper is cited in a digest: "arXiv:2606.18831v1", "bioRxiv doi:10.1101/…v2"."""
        if self.is_arxiv:
            return f"arXiv:{self.versioned_id}"
        return f"{self.source_label} doi:{self.versioned_id}"

    @property
    def abs_url(self) -> str:
        if host := _SERVER_HOSTS.get(str(self.source)):
            return f"https://{host}/content/{self.versioned_id}"
        return f"https://arxiv.org/abs/{self.versioned_id}"

    @property
    def pdf_url(self) -> str:
        if self.source in _SERVER_HOSTS:
            return f"{self.abs_url}.full.pdf"
        return f"https://arxiv.org/pdf/{self.versioned_id}"

    @property
    def html_url(self) -> str:
        """The full text on the paper's own server."""
        if self.source in _SERVER_HOSTS:
            return f"{self.abs_url}.full"
        return f"https://arxiv.org/html/{self.versioned_id}"

    @property
    def author_names(self) -> list[str]:
        return [author["name"] for author in self.authors]

    @property
    def affiliations(self) -> list[str]:
        """Every distinct affiliation, in the order the authors list them."""
        seen: dict[str, None] = {}
        for author in self.authors:
            for affiliation in author.get("affiliations", []):
                seen.setdefault(affiliation, None)
        return list(seen)


class Enrichment(models.Model):
    """The LLM's reading of one paper version in one language, under one prompt version."""

    class Status(models.TextChoices):
        OK = "ok", "ok"
        FAILED = "failed", "failed (shown untranslated)"
        SKIPPED = "skipped", "skipped: daily token budget spent"
        LLM_LESS = "llm-less", "LLM-less (extractive, untranslated)"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="enrichments")
    paper_version = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=16)
    prompt_version = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OK)
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    summary = models.TextField(blank=True)
    affiliations = models.JSONField(default=list, blank=True)
    topic_hits = models.JSONField(
        default=list, blank=True, help_text='[{"topic": slug, "score": 0–100, "reason": …}]'
    )
    model = models.CharField(max_length=128, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["paper", "paper_version", "language", "prompt_version"],
                name="enrichment_unique_per_version_language_prompt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.paper.arxiv_id}v{self.paper_version} [{self.language}] {self.prompt_version}"
