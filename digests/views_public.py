"""Public topic and author pages, and author-name suggestions: thin views over public_pages."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from digests import authors
from digests.public_pages import (
    announce_day_parse,
    author_page_build,
    page_number_parse,
    topic_page_build,
)

QUERY_MAX_CHARS = 100
SUGGEST_MAX_AGE = 300  # seconds a browser may reuse an answer: new papers come once a day


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "public/bad_request.html", {"message": message}, status=400)


def _page_number(request: HttpRequest) -> int | None:
    try:
        return page_number_parse(request.GET.get("page"))
    except ValueError:
        return None


@require_GET
def topic_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A featured topic's papers of one announcement day (?date=YYYY-MM-DD, default latest)."""
    raw_day = request.GET.get("date", "")
    try:
        day = announce_day_parse(raw_day) if raw_day else None
    except ValueError:
        return _bad_request(
            request,
            _("“%(value)s” is not a date. Pick a day, or write it as YYYY-MM-DD (2026-06-18).")
            % {"value": raw_day[:40]},
        )
    page = _page_number(request)
    if page is None:
        return _bad_request(request, _("The page number must be a whole number from 1."))
    built = topic_page_build(slug=slug, day=day, page=page, language=translation.get_language())
    if built is None or (page > 1 and not built.items):
        raise Http404("No such topic or page")
    return render(request, "public/topic.html", {"view": built})


@require_GET
def author_page(request: HttpRequest, name: str) -> HttpResponse:
    """An author's papers, newest first, PAGE_SIZE a page (?page=N).

    A name with no paper answers 404 with a page that says so: a reader sees why, and
    search engines do not index empty pages (links on our pages only go to listed names).
    """
    page = _page_number(request)
    if page is None:
        return _bad_request(request, _("The page number must be a whole number from 1."))
    built = author_page_build(name=name.strip(), page=page, language=translation.get_language())
    status = 200 if built.items else 404
    return render(request, "public/author.html", {"view": built}, status=status)


@require_GET
def author_suggest(request: HttpRequest) -> JsonResponse:
    """Up to ten author names starting with ?q= (any name part), most papers first."""
    query = request.GET.get("q", "")[:QUERY_MAX_CHARS]
    found = (
        authors.author_suggest(index=authors.author_index(), query=query)
        if authors.suggest_words(query)
        else []  # no index lookup for a keystroke that cannot narrow anything
    )
    response = JsonResponse({"authors": [{"name": a.name, "papers": a.papers} for a in found]})
    response["Cache-Control"] = f"public, max-age={SUGGEST_MAX_AGE}"
    return response
