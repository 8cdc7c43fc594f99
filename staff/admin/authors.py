"""The author pages' lookups on arXiv (`digests.arxiv.author_backfill`), read-only.

Staff see which names readers opened, whether arXiv answered, how many papers each lookup kept
and what it cost in API requests. The pipeline writes these rows; a row is never edited here
(a failed or old lookup is made again by the next visit to the page). No related rows: the list
costs the same whatever its length.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from digests.models import AuthorBackfill
from staff.admin.versions import ReadOnlyAdmin

__all__ = ["AuthorBackfillAdmin"]

SHORT_ERROR_LENGTH = 80


@admin.register(AuthorBackfill)
class AuthorBackfillAdmin(ReadOnlyAdmin):
    """One lookup of an author's papers: its state, the papers found, its requests, its error."""

    list_display = [
        "name", "state", "papers_found", "api_requests", "requested_at", "fetched_at",
        "short_error", "author_page",
    ]  # fmt: skip
    list_filter = ["state", "requested_at"]
    date_hierarchy = "requested_at"
    search_fields = ["name", "key"]

    @admin.display(description="papers found")
    def papers_found(self, row: AuthorBackfill) -> int:
        return len(row.arxiv_ids or [])

    @admin.display(description="error", ordering="error")
    def short_error(self, row: AuthorBackfill) -> str:
        error = row.error
        return error if len(error) <= SHORT_ERROR_LENGTH else error[: SHORT_ERROR_LENGTH - 1] + "…"

    @admin.display(description="page")
    def author_page(self, row: AuthorBackfill) -> SafeString:
        if not row.name:
            return format_html("{}", "")
        # the name is what a visitor typed: quoted by reverse, escaped by format_html
        url = reverse("public:author", args=[row.name])
        return format_html('<a href="{}" rel="noopener">author page</a>', url)
