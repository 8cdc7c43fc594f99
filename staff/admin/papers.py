"""Admin for the papers, their enrichment, the digests and the LLM spending.

Topics are curated in `admin_topics`, deliveries retried in `admin_delivery` (imported here so
that the admin's autodiscovery registers them). Every list page fetches its related rows in the
same query (`list_select_related` or an annotation), so its cost does not grow with its rows;
inlines select their related rows too.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from digests.models import (
    Delivery,
    Digest,
    DigestItem,
    Enrichment,
    Feedback,
    IngestDay,
    LLMUsage,
    Paper,
    TopicBrief,
)
from staff.admin.deliveries import DeliveryAdmin
from staff.admin.topics import TopicAdmin

__all__ = [
    "CategoryFilter",
    "DeliveryAdmin",
    "DigestAdmin",
    "DigestItemAdmin",
    "DigestItemInline",
    "EnrichmentAdmin",
    "FeedbackAdmin",
    "IngestDayAdmin",
    "LLMUsageAdmin",
    "PaperAdmin",
    "PaperDigestItemInline",
    "PaperEnrichmentInline",
    "TopicAdmin",
    "TopicBriefAdmin",
]

SHORT_TITLE_LENGTH = 80


class CategoryFilter(admin.SimpleListFilter):
    """Papers listed in a category, as primary or cross-list (a JSON list: matched as text)."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        primaries = Paper.objects.order_by("primary_category").values_list(
            "primary_category", flat=True
        )
        return [(code, code) for code in primaries.distinct() if code]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(categories__icontains=f'"{self.value()}"')
        return queryset


class _ReadOnlyInline(admin.TabularInline):
    """Shown on the page, changed by the pipeline only."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return list(self.fields or ())  # type: ignore[arg-type]  # flat field names here


class PaperEnrichmentInline(_ReadOnlyInline):
    model = Enrichment
    verbose_name_plural = "readings (enrichments)"
    fields = [
        "language", "paper_version", "prompt_version", "status", "title", "summary",
        "topic_hits", "model", "tokens_in", "tokens_out", "error", "created_at",
    ]  # fmt: skip
    ordering = ["language", "prompt_version"]


class PaperDigestItemInline(_ReadOnlyInline):
    model = DigestItem
    verbose_name_plural = "carried in digests"
    fields = ["digest", "rank", "relevance", "topic", "reason"]
    ordering = ["-digest__issue_date", "digest__subscriber__email"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DigestItem]:
        # The digest's label names its subscriber, and the topic its name: no query per row.
        return super().get_queryset(request).select_related("digest__subscriber", "topic")


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = [
        "versioned_id",
        "short_title",
        "primary_category",
        "announce_date",
        "announce_type",
    ]
    list_filter = ["announce_date", "announce_type", "source", CategoryFilter]
    date_hierarchy = "announce_date"
    inlines = [PaperEnrichmentInline, PaperDigestItemInline]
    search_fields = ["arxiv_id", "title", "authors"]
    readonly_fields = ["created_at", "updated_at", "links"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["arxiv_id", "version", "version_history", "links"]}),
        ("Content", {"fields": ["title", "abstract", "authors", "comment", "journal_ref", "doi"]}),
        ("Classification", {"fields": ["primary_category", "categories", "license"]}),
        (
            "Announcement",
            {
                "fields": [
                    "announce_date",
                    "announce_type",
                    "published",
                    "updated",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    @admin.display(description="arXiv id", ordering="arxiv_id")
    def versioned_id(self, paper: Paper) -> str:
        return paper.versioned_id

    @admin.display(description="title", ordering="title")
    def short_title(self, paper: Paper) -> str:
        if len(paper.title) <= SHORT_TITLE_LENGTH:
            return paper.title
        return paper.title[: SHORT_TITLE_LENGTH - 1].rstrip() + "…"

    @admin.display(description="links")
    def links(self, paper: Paper) -> SafeString | str:
        if not paper.pk:
            return "—"
        links = [(paper.abs_url, "abs"), (paper.pdf_url, "PDF"), (paper.html_url, "HTML")]
        return format_html_join(" · ", '<a href="{}" rel="noopener">{}</a>', links)


@admin.register(Enrichment)
class EnrichmentAdmin(admin.ModelAdmin):
    list_display = [
        "paper",
        "paper_version",
        "language",
        "prompt_version",
        "status",
        "model",
        "tokens_in",
        "tokens_out",
        "error",
        "created_at",
    ]
    list_select_related = ["paper"]
    list_filter = ["status", "language", "prompt_version", "model", "paper__announce_date"]
    date_hierarchy = "created_at"
    search_fields = ["paper__arxiv_id", "paper__title", "error"]
    raw_id_fields = ["paper"]
    readonly_fields = ["created_at"]


class DigestItemInline(admin.TabularInline):
    model = DigestItem
    fields = ["rank", "paper", "relevance", "topic", "reason"]
    raw_id_fields = ["paper"]
    autocomplete_fields = ["topic"]
    ordering = ["rank"]
    extra = 0


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = [
        "issue_date",
        "subscriber",
        "status",
        "item_count",
        "delivery_status",
        "created_at",
    ]
    list_select_related = ["subscriber", "delivery"]
    list_filter = ["status", "delivery__status", "issue_date"]
    date_hierarchy = "issue_date"
    search_fields = ["subscriber__email"]
    raw_id_fields = ["subscriber"]
    readonly_fields = ["created_at"]
    inlines = [DigestItemInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Digest]:
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description="items", ordering="item_count")
    def item_count(self, digest: Digest) -> int:
        return digest.item_count  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="delivery", ordering="delivery__status")
    def delivery_status(self, digest: Digest) -> str:
        # select_related caches a missing reverse one-to-one too, so this costs no query.
        try:
            return digest.delivery.get_status_display()
        except Delivery.DoesNotExist:
            return "—"


@admin.register(DigestItem)
class DigestItemAdmin(admin.ModelAdmin):
    list_display = ["digest", "rank", "paper", "relevance", "topic"]
    list_select_related = ["digest__subscriber", "paper", "topic"]
    list_filter = ["digest__issue_date", "topic"]
    search_fields = ["digest__subscriber__email", "paper__arxiv_id", "paper__title"]
    raw_id_fields = ["digest", "paper"]
    autocomplete_fields = ["topic"]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "paper", "signal", "created_at"]
    list_select_related = ["subscriber", "paper"]
    list_filter = ["signal", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["subscriber__email", "paper__arxiv_id"]
    raw_id_fields = ["subscriber", "paper"]
    readonly_fields = ["created_at"]


@admin.register(LLMUsage)
class LLMUsageAdmin(admin.ModelAdmin):
    list_display = ["day", "model", "purpose", "calls", "tokens_in", "tokens_out", "cost"]
    list_filter = ["purpose", "model"]
    date_hierarchy = "day"
    search_fields = ["model"]


@admin.register(IngestDay)
class IngestDayAdmin(admin.ModelAdmin):
    """Each announcement day: announced, none, stale or failed, and why."""

    list_display = [
        "date", "status", "listed", "created", "updated", "api_requests", "note",
        "finished_at", "ready_at",
    ]  # fmt: skip
    list_filter = ["status"]
    date_hierarchy = "date"
    readonly_fields = ["started_at", "finished_at", "ready_at"]


@admin.register(TopicBrief)
class TopicBriefAdmin(admin.ModelAdmin):
    list_display = ["date", "topic", "language", "model", "tokens_in", "tokens_out", "created_at"]
    list_select_related = ["topic"]
    list_filter = ["language", "model", "prompt_version"]
    date_hierarchy = "date"
    search_fields = ["topic__slug", "text"]
    raw_id_fields = ["topic"]
    readonly_fields = ["created_at"]
