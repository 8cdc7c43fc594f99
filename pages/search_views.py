"""The search page: a thin view over `pages.search` and `pages.lists.paper_items`."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from digests.models import Paper, Topic
from pages.lists import PaperItem, announce_day_parse, page_number_parse, paper_items
from pages.saved import saved_ids
from pages.search import (
    CANDIDATES,
    MAX_QUERY_CHARS,
    SOURCES,
    SearchFilters,
    category_parse,
    paper_search,
    profile_relevance,
    search_terms,
)
from subscribers.session import current_subscriber, session_is_full

PAGE_SIZE = 20
PROFILE = "profile"  # ?sort=profile: by relevance to the signed-in reader's profile


@dataclass
class SearchView:
    query: str = ""
    category: str = ""
    day: str = ""
    source: str = ""
    sort: str = ""
    errors: list[str] = field(default_factory=list)
    searched: bool = False  # the query had words to look for
    total: int = 0
    capped: bool = False  # more matched than CANDIDATES
    items: list[PaperItem] = field(default_factory=list)
    saved: set[int] = field(default_factory=set)
    page: int = 1
    has_next: bool = False
    offset: int = 0
    profile_sort: bool = False  # the reader may sort by their profile
    sources: tuple[str, ...] = SOURCES


def _filters(request: HttpRequest, view: SearchView) -> SearchFilters:
    """The filters asked, each one checked; a bad one is reported and left out."""
    category = day = None
    if view.category:
        try:
            category = category_parse(view.category)
        except ValueError:
            view.errors.append(
                _("“%(value)s” is not a category. Write it as arXiv does: cs.CL, hep-th, math.AG.")
                % {"value": view.category[:40]}
            )
    if view.day:
        try:
            day = announce_day_parse(view.day)
        except ValueError:
            view.errors.append(
                _("“%(value)s” is not a date. Pick a day, or write it as YYYY-MM-DD (2026-06-18).")
                % {"value": view.day[:40]}
            )
    if view.source and view.source not in SOURCES:
        view.errors.append(_("Unknown source. Choose arXiv, bioRxiv or medRxiv."))
    return SearchFilters(
        category=category or "",
        day=day,
        source=view.source if view.source in SOURCES else "",
    )


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """?q= words of the title, abstract or authors; &category= &day= &source= &sort=profile."""
    get = request.GET
    view = SearchView(
        query=get.get("q", "")[:MAX_QUERY_CHARS],
        category=get.get("category", "").strip()[:80],
        day=get.get("day", "").strip()[:20],
        source=get.get("source", "").strip()[:20],
        sort=get.get("sort", ""),
    )
    subscriber = current_subscriber(request) if session_is_full(request) else None
    view.profile_sort = subscriber is not None
    try:
        view.page = page_number_parse(get.get("page"))
    except ValueError:
        view.errors.append(_("The page number must be a whole number from 1."))
    filters = _filters(request, view)
    view.searched = bool(search_terms(view.query))
    if view.errors or not view.searched:
        status = 400 if view.errors else 200
        return render(request, "public/search.html", {"view": view}, status=status)

    ids = paper_search(text=view.query, filters=filters)
    view.total, view.capped = len(ids), len(ids) >= CANDIDATES
    relevance: dict[int, int] | None = None
    papers: dict[int, Paper] | None = None
    if view.sort == PROFILE and subscriber is not None:
        papers = Paper.objects.in_bulk(ids)
        relevance = profile_relevance(subscriber=subscriber, papers=list(papers.values()))
        position = {pid: i for i, pid in enumerate(ids)}
        ids = sorted(ids, key=lambda pid: (-relevance.get(pid, 0), position[pid]))
    view.offset = (view.page - 1) * PAGE_SIZE
    shown = ids[view.offset : view.offset + PAGE_SIZE]
    view.has_next = len(ids) > view.offset + PAGE_SIZE
    view.items = paper_items(
        paper_ids=shown,
        language=translation.get_language(),
        topics={t.slug: t for t in Topic.objects.all()} if shown else {},
        focus=None,
        relevance={pid: relevance[pid] for pid in shown} if relevance is not None else None,
        papers={pid: papers[pid] for pid in shown} if papers is not None else None,
    )
    view.saved = saved_ids(subscriber, shown)
    return render(request, "public/search.html", {"view": view})
