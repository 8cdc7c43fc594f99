"""The signed-in reader's pages over `pages.archive` and `pages.saved`: the archive, the papers
they marked, the reading list and its exports, and "save" from the web and from an e-mail."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from digests.models import Paper, Topic
from digests.render import item_views, update_views
from newsletter.i18n import language_for_translation
from pages.archive import archive_page_build, marked_page_build, received_digest
from pages.lists import announce_day_parse, page_number_parse, paper_items
from pages.saved import bibtex_export, paper_save, paper_unsave, ris_export, saved_papers
from subscribers.models import Subscriber
from subscribers.session import data_access_required, subscriber_required
from subscribers.tokens import BadToken, feedback_token_read

SAVE = "save"  # the signal a save link's token carries (a feedback token of its own kind)


def _page(request: HttpRequest) -> int | None:
    try:
        return page_number_parse(request.GET.get("page"))
    except ValueError:
        return None


def _bad_page(request: HttpRequest) -> HttpResponse:
    message = translation.gettext("The page number must be a whole number from 1.")
    return render(request, "public/bad_request.html", {"message": message}, status=400)


@never_cache
@require_GET
@data_access_required
def archive(request: HttpRequest) -> HttpResponse:
    """Every digest the reader received, newest day first (?page=N)."""
    page = _page(request)
    if page is None:
        return _bad_page(request)
    built = archive_page_build(subscriber=request.subscriber, page=page)  # type: ignore[attr-defined]
    return render(request, "public/archive.html", {"view": built})


@never_cache
@require_GET
@data_access_required
def archive_day(request: HttpRequest, day: str) -> HttpResponse:
    """One received digest in full, as its "view in browser" page shows it."""
    try:
        issue_date = announce_day_parse(day)
    except ValueError:
        issue_date = None
    digest = (
        received_digest(subscriber=request.subscriber, day=issue_date)  # type: ignore[attr-defined]
        if issue_date
        else None
    )
    if digest is None:
        return render(request, "public/archive_missing.html", {"day": day[:20]}, status=404)
    context = {"digest": digest, "items": item_views(digest), "updates": update_views(digest)}
    return render(request, "digest.html", {**context, "archived": True})


@never_cache
@require_GET
@data_access_required
def marked(request: HttpRequest) -> HttpResponse:
    """The papers the reader marked: more, less, clicked, saved (?page=N)."""
    page = _page(request)
    if page is None:
        return _bad_page(request)
    built = marked_page_build(subscriber=request.subscriber, page=page)  # type: ignore[attr-defined]
    return render(request, "public/marked.html", {"view": built})


@never_cache
@require_GET
@data_access_required
def reading_list(request: HttpRequest) -> HttpResponse:
    """The papers the reader saved, last saved first, as the topic page shows papers."""
    saved = saved_papers(request.subscriber)  # type: ignore[attr-defined]
    items = paper_items(
        paper_ids=[s.paper_id for s in saved],
        language=translation.get_language(),
        topics={t.slug: t for t in Topic.objects.all()},
        focus=None,
        relevance=None,
        papers={s.paper_id: s.paper for s in saved},
    )
    when = {s.paper_id: s.saved_at for s in saved}
    rows = [(item, when[item.shown.paper.pk]) for item in items]
    return render(request, "public/saved.html", {"rows": rows})


@never_cache
@require_GET
@data_access_required
def reading_list_export(request: HttpRequest, kind: str) -> HttpResponse:
    """The reading list as BibTeX (.bib) or RIS (.ris), for any reference manager."""
    papers = [s.paper for s in saved_papers(request.subscriber)]  # type: ignore[attr-defined]
    if kind == "bib":
        response = HttpResponse(bibtex_export(papers), content_type="application/x-bibtex")
    else:
        response = HttpResponse(
            ris_export(papers), content_type="application/x-research-info-systems"
        )
    response["Content-Disposition"] = f'attachment; filename="reading-list.{kind}"'
    return response


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@require_POST
@subscriber_required
def paper_save_web(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    """The "save" button of the web pages: on the list, then back where the reader was."""
    paper = get_object_or_404(Paper, arxiv_id=arxiv_id)
    paper_save(subscriber=request.subscriber, paper=paper)  # type: ignore[attr-defined]
    return _back(request, "public:saved")


@require_POST
@data_access_required
def paper_unsave_web(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    """Take a paper off the reading list."""
    paper = get_object_or_404(Paper, arxiv_id=arxiv_id)
    paper_unsave(subscriber=request.subscriber, paper=paper)  # type: ignore[attr-defined]
    return _back(request, "public:saved")


@never_cache
@require_http_methods(["GET", "POST"])
def save_from_email(request: HttpRequest, token: str) -> HttpResponse:
    """ "Save for later" from an e-mail: a page with one button; the POST saves."""
    try:
        subscriber_id, paper_id, signal = feedback_token_read(token)
    except BadToken:
        return render(request, "subscribers/link_invalid.html", status=400)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    paper = Paper.objects.filter(pk=paper_id).first()
    if subscriber is None or paper is None or signal != SAVE:
        return render(request, "subscribers/link_invalid.html", status=400)
    context = {"paper": paper, "saved": False}
    if request.method == "POST":
        paper_save(subscriber=subscriber, paper=paper)
        context["saved"] = True
    with translation.override(language_for_translation(subscriber.language)):
        return render(request, "public/save_confirm.html", context)
