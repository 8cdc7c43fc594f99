"""The public pages: thin views over `pages.lists`, `pages.feed` and the pipeline's selectors."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from digests import authors
from digests.arxiv.author_backfill import author_backfill_due, author_backfill_held
from digests.feedback import feedback_record
from digests.llm.calls import llm_enabled
from digests.models import Digest, Feedback, Paper, Topic
from digests.readings import CHINESE, latest_issue_date, primary_language, readings_for
from digests.render import item_views, manage_token_read, update_views
from digests.shown import shown_paper
from newsletter.i18n import language_for_translation
from pages.author_page import author_follow_set, author_page_build
from pages.feed import feed_build
from pages.lists import TopicPage, announce_day_parse, page_number_parse, topic_page_build
from pages.saved import saved_ids
from pages.tasks import author_backfill_queue, topic_brief_queue
from pages.topic_brief import (
    PageBrief,
    topic_brief_held,
    topic_brief_lexical,
    topic_brief_recite,
)
from subscribers.feed_keys import feed_subscriber
from subscribers.models import Subscriber
from subscribers.ratelimit import Limit, client_ip, limit_hit
from subscribers.session import current_subscriber, session_is_full
from subscribers.tasks import signin_link_deliver
from subscribers.tokens import BadToken, digest_token_read, feedback_token_read

# The sign-in page's limits (same scopes): a manage link is one more way to ask for a link.
SIGNIN_PER_IP = Limit(scope="signin-ip", count=20, seconds=60 * 10)
SIGNIN_PER_ADDRESS = Limit(scope="signin-address", count=5, seconds=60 * 60)


def _page_language(request: HttpRequest) -> str:
    """?lang= from an e-mail's link (the reader's language), else the request's."""
    asked = request.GET.get("lang", "")
    if asked and asked in {code for code, _name in settings.LANGUAGES}:
        return asked
    return translation.get_language()


def home(request: HttpRequest) -> HttpResponse:
    """The front page: what the service is, the featured topics and the latest day's count."""
    latest = latest_issue_date(source="papers")
    context = {
        "topics": Topic.objects.filter(featured=True, parent=None),
        "latest_date": latest,
        "latest_count": Paper.objects.filter(announce_date=latest).count() if latest else 0,
    }
    return render(request, "home.html", context)


def paper_detail(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    """One paper: its arXiv fields and its readings in every language we hold."""
    paper = get_object_or_404(Paper, arxiv_id=arxiv_id)
    language = _page_language(request)
    reading = readings_for([paper], language, loose=True, stand_in=CHINESE)[paper.pk]
    readings, lexical = reading.every_language, reading.lexical
    topics = Topic.objects.in_bulk(
        [
            hit["topic"]
            for r in [*readings, *([lexical] if lexical else [])]
            for hit in r.topic_hits
        ],
        field_name="slug",
    )
    in_languages = [
        (
            r,
            [
                (topics[hit["topic"]].name(r.language), hit["reason"])
                for hit in r.topic_hits
                if hit["topic"] in topics
            ],
        )
        for r in readings
    ]
    context = {
        "shown": shown_paper(paper, reading, english_abstract=False),
        "readings": in_languages,
        "lexical": lexical,
        "on_list": paper.pk in saved_ids(current_subscriber(request), [paper.pk]),
    }
    with translation.override(language):
        return render(request, "paper.html", context)


@never_cache
def digest_detail(request: HttpRequest, token: str) -> HttpResponse:
    """A digest's "view in browser" page: every item, the English abstracts too, and the
    new versions of papers the reader got before."""
    try:
        digest_id = digest_token_read(token)
    except BadToken:
        return render(request, "subscribers/link_invalid.html", status=400)
    digest = get_object_or_404(Digest.objects.select_related("subscriber"), pk=digest_id)
    with translation.override(language_for_translation(digest.subscriber.language)):
        context = {"digest": digest, "items": item_views(digest), "updates": update_views(digest)}
        return render(request, "digest.html", context)


FEEDBACK_WORDS = (Feedback.Signal.MORE, Feedback.Signal.LESS)  # a click comes from the ESP only


@never_cache
@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest, token: str) -> HttpResponse:
    """ "More / less like this" from an e-mail: a page with one button; the POST records it."""
    try:
        subscriber_id, paper_id, signal = feedback_token_read(token)
    except BadToken:
        return render(request, "subscribers/link_invalid.html", status=400)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    paper = Paper.objects.filter(pk=paper_id).first()
    if subscriber is None or paper is None or signal not in FEEDBACK_WORDS:
        return render(request, "subscribers/link_invalid.html", status=400)
    context = {"paper": paper, "signal": signal, "recorded": False}
    if request.method == "POST":
        feedback_record(subscriber=subscriber, paper=paper, signal=signal)
        context["recorded"] = True
    with translation.override(language_for_translation(subscriber.language)):
        return render(request, "subscribers/feedback.html", context)


def _masked(email: str) -> str:
    """ "r…@example.org": enough for the reader to know it is theirs."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """ "Manage your profile" from an e-mail: the reader signed in goes to the editor; anyone
    else gets a button that mails a fresh sign-in link to the address on file, so a forwarded
    e-mail opens nobody's account. A GET changes nothing."""
    subscriber_id = manage_token_read(token)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first() if subscriber_id else None
    if subscriber is None:
        return render(request, "subscribers/link_invalid.html", status=400)
    signed_in = current_subscriber(request)
    if signed_in is not None and signed_in.pk == subscriber.pk:
        return redirect("subscribers:profile")
    context = {"masked": _masked(subscriber.email), "sent": False}
    if request.method == "POST":
        if limit_hit(SIGNIN_PER_IP, client_ip(request)) or limit_hit(
            SIGNIN_PER_ADDRESS, subscriber.email
        ):
            return render(request, "subscribers/signin_limited.html", status=429)
        signin_link_deliver.delay(subscriber.email)
        context["sent"] = True
    with translation.override(language_for_translation(subscriber.language)):
        return render(request, "public/manage.html", context)


@require_GET
def feed(request: HttpRequest, key: str) -> HttpResponse:
    """The private Atom feed; an unknown, replaced or unsubscribed key is not found."""
    subscriber = feed_subscriber(key=key)
    if subscriber is None:
        raise Http404("no such feed")
    atom = feed_build(subscriber=subscriber)
    response = HttpResponse(content_type=atom.content_type)
    atom.write(response, "utf-8")
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex"
    return response


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
    """Any topic's papers of one announcement day (?date=YYYY-MM-DD, default latest), with the
    day's brief of the topic."""
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
    language = translation.get_language()
    built = topic_page_build(slug=slug, day=day, page=page, language=language)
    if built is None or (page > 1 and not built.items):
        raise Http404("No such topic or page")
    brief = _topic_brief(built, primary_language(language)) if page == 1 and built.items else None
    return render(request, "public/topic.html", {"view": built, "brief": brief})


def _topic_brief(built: TopicPage, language: str) -> PageBrief | None:
    """The LLM's brief of the topic's day if written (else queued once), or a lexical one."""
    assert built.day is not None  # a page with items has a day
    held = topic_brief_held(topic=built.topic, day=built.day, language=language)
    if (
        held is None
        and llm_enabled()
        and topic_brief_queue(topic_id=built.topic.pk, day=built.day, language=language)
    ):
        held = topic_brief_held(topic=built.topic, day=built.day, language=language)
    if held is not None:
        numbers = {item.shown.paper.pk: n for n, item in enumerate(built.items, start=1)}
        text = topic_brief_recite(held.text, held.paper_ids, numbers)
        return PageBrief(text=text, by_llm=True, language=held.language)
    text = topic_brief_lexical(
        topic_name=built.name,
        topic=built.topic,
        day=built.day,
        count=built.count,
        items=built.items,
    )
    return PageBrief(text=text, by_llm=False, language=language) if text else None


# New lookups on arXiv one address may start: arXiv's pace is shared with the daily ingestion.
LOOKUPS_PER_IP = Limit(scope="author-lookup-ip", count=30, seconds=60 * 60)
LOOKUP_REFRESH_SECONDS = 5  # the page reloads itself while a lookup runs


@require_GET
def author_page(request: HttpRequest, name: str) -> HttpResponse:
    """An author's papers, a batch of them (?page=N: another batch), any author.

    The first visit queues their papers' lookup on arXiv and shows what we hold meanwhile. A
    name with no paper and nothing left to look up answers 404 with a page that says so (a
    reader sees why; search engines do not index empty pages).
    """
    page = _page_number(request)
    if page is None:
        return _bad_request(request, _("The page number must be a whole number from 1."))
    name = name.strip()
    backfill = author_backfill_held(name)
    limited = False
    if author_backfill_due(backfill):
        limited = limit_hit(LOOKUPS_PER_IP, client_ip(request))
        if not limited and author_backfill_queue(name):
            backfill = author_backfill_held(name)  # as queued (or done, with eager tasks)
    subscriber = current_subscriber(request)
    built = author_page_build(
        name=name,
        batch=page,
        language=translation.get_language(),
        subscriber=subscriber,
        may_edit=subscriber is not None and session_is_full(request),
        backfill=backfill,
    )
    status = 200 if built.items or built.looking_up or built.lookup_failed else 404
    context = {"view": built, "limited": limited, "refresh": LOOKUP_REFRESH_SECONDS}
    return render(request, "public/author.html", context, status=status)


@require_POST
def author_follow(request: HttpRequest) -> HttpResponse:
    """Follow an author from their page, or stop (the chip's ×): a signed-in reader's profile."""
    subscriber = current_subscriber(request)
    name = request.POST.get("name", "").strip()
    if subscriber is None or not session_is_full(request):
        return redirect("subscribers:signin")
    if not author_follow_set(
        subscriber=subscriber, name=name, follow=request.POST.get("action") == "follow"
    ):
        return _bad_request(request, _("This name cannot be followed."))
    return redirect("public:author", name)


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
