"""Papers' versions, what changed between two of them, and the digests' "updated" notes.

Read-only, like the tracking decisions: these rows are the record of what arXiv announced and
what readers were told (see `digests.versions`); staff read them, the pipeline writes them.
Each list page selects its related rows in the same query, so its cost does not grow with them.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from digests.models import DigestUpdate, PaperVersion, VersionChange

__all__ = ["DigestUpdateAdmin", "PaperVersionAdmin", "ReadOnlyAdmin", "VersionChangeAdmin"]

SHORT_TEXT_LENGTH = 80


def _short(text: str) -> str:
    return text if len(text) <= SHORT_TEXT_LENGTH else text[: SHORT_TEXT_LENGTH - 1] + "…"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown to staff, never added or edited here; every field read-only on the change page."""

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PaperVersion)
class PaperVersionAdmin(ReadOnlyAdmin):
    """Each announced version of a paper, with its text then and the day arXiv announced it."""

    list_display = ["paper_arxiv_id", "version", "announce_date", "announce_type", "short_title"]
    list_select_related = ["paper"]
    list_filter = ["announce_type", "announce_date"]
    date_hierarchy = "announce_date"
    search_fields = ["paper__arxiv_id", "title"]

    @admin.display(description="paper", ordering="paper__arxiv_id")
    def paper_arxiv_id(self, row: PaperVersion) -> str:
        return row.paper.arxiv_id

    @admin.display(description="title then", ordering="title")
    def short_title(self, row: PaperVersion) -> str:
        return _short(row.title)


@admin.register(VersionChange)
class VersionChangeAdmin(ReadOnlyAdmin):
    """The LLM's sentence on what a version changed, per language; failed ones say why."""

    list_display = [
        "paper_arxiv_id", "versions", "language", "status", "short_sentence", "model",
        "tokens_in", "tokens_out", "created_at",
    ]  # fmt: skip
    list_select_related = ["paper"]
    list_filter = ["status", "language", "model", "prompt_version"]
    date_hierarchy = "created_at"
    search_fields = ["paper__arxiv_id", "sentence", "error"]

    @admin.display(description="paper", ordering="paper__arxiv_id")
    def paper_arxiv_id(self, row: VersionChange) -> str:
        return row.paper.arxiv_id

    @admin.display(description="versions", ordering="new_version")
    def versions(self, row: VersionChange) -> str:
        return f"v{row.old_version} → v{row.new_version}"

    @admin.display(description="what changed")
    def short_sentence(self, row: VersionChange) -> str:
        return _short(row.sentence or row.error)


@admin.register(DigestUpdate)
class DigestUpdateAdmin(ReadOnlyAdmin):
    """In a reader's digest: a new version of a paper they got before, and when they got it."""

    list_display = [
        "issue_date", "reader", "paper_arxiv_id", "previous_version", "version", "previous_date",
    ]  # fmt: skip
    list_select_related = ["digest__subscriber", "paper"]
    list_filter = ["digest__issue_date"]
    date_hierarchy = "digest__issue_date"
    search_fields = ["digest__subscriber__email", "paper__arxiv_id"]

    @admin.display(description="issue date", ordering="digest__issue_date")
    def issue_date(self, row: DigestUpdate) -> str:
        return row.digest.issue_date.isoformat()

    @admin.display(description="reader", ordering="digest__subscriber__email")
    def reader(self, row: DigestUpdate) -> str:
        return row.digest.subscriber.email

    @admin.display(description="paper", ordering="paper__arxiv_id")
    def paper_arxiv_id(self, row: DigestUpdate) -> str:
        return row.paper.arxiv_id
