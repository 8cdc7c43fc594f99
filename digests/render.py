"""Step 5: a digest as an e-mail: Django template → MJML → HTML, plus a plain-text part.

Every piece of paper and model text is auto-escaped by the template engine: titles, abstracts,
summaries and reasons are untrusted and reach the reader as text, never as markup or a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from mjml import mjml2html

from digests.llm.calls import llm_enabled
from digests.mail_html import html_wire_bytes, lines_wrapped
from digests.models import Digest, DigestItem, DigestUpdate
from digests.readings import Reading, readings_for
from digests.shown import ShownPaper, shown_paper
from digests.text import latex_formatting_removed
from digests.versions import change_line, changes_for
from newsletter.i18n import language_for_translation
from subscribers.tokens import digest_token, feedback_token, unsubscribe_token

__all__ = [
    "GMAIL_CLIP_BYTES",
    "ItemView",
    "RenderedEmail",
    "UpdateView",
    "digest_mjml",
    "digest_render",
    "digest_subject",
    "email_context",
    "item_reasons",
    "item_views",
    "kept_first",
    "kept_order",
    "manage_token_read",
    "manage_url",
    "subject_line",
    "update_views",
]


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str
    shown: int = 0  # papers in the HTML (the text part and the web page hold them all)


@dataclass(frozen=True)
class ItemView:
    """One item of the e-mail: the shown paper, its rank, why it was picked, and its links."""

    item: DigestItem
    shown: ShownPaper
    more_url: str
    less_url: str
    reasons: tuple[str, ...] = ()  # what scored, in the reader's language, none twice
    paper_url: str = ""  # the paper's page here
    save_url: str = ""  # "save for later": a page whose button puts it on the reading list


def item_reasons(item: DigestItem, reading: Reading, language: str) -> tuple[str, ...]:
    """The reasons assembly stored (one a line), the topic hit's followed by why: the LLM's
    one line in the reader's language, else the topic's words the paper holds. In the active
    language."""
    lines = [line for line in item.reason.split("\n") if line.strip()]
    if item.topic is None:
        return tuple(dict.fromkeys(lines))
    slug = item.topic.slug
    label = _("topic hit: %(topic)s") % {"topic": item.topic.name(language)}
    why = ""
    if reading.llm is not None and reading.in_language:
        hit = next((h for h in reading.llm.topic_hits if h.get("topic") == slug), None)
        why = str((hit or {}).get("reason", "")).strip()
    if not why and reading.lexical is not None:
        hit = next((h for h in reading.lexical.topic_hits if h.get("topic") == slug), None)
        words = str((hit or {}).get("reason", "")).strip()
        why = _("words found: %(words)s") % {"words": words} if words else ""
    if why:
        lines = [f"{line} — {why}" if line == label else line for line in lines]
    return tuple(dict.fromkeys(lines))


def item_views(digest: Digest) -> list[ItemView]:
    """The digest's items with their reading in the reader's language, in 3 queries."""
    language = digest.subscriber.language
    items = list(digest.items.select_related("paper", "topic").order_by("rank"))
    readings = readings_for([item.paper for item in items], language)
    views = []
    code = language_for_translation(language)
    with translation.override(code):
        for item in items:
            reading = readings[item.paper_id]
            views.append(
                ItemView(
                    item=item,
                    shown=shown_paper(
                        item.paper, reading, relevance=item.relevance, english_abstract=False
                    ),
                    more_url=_feedback_url(digest, item, "more"),
                    less_url=_feedback_url(digest, item, "less"),
                    save_url=_feedback_url(digest, item, "save"),
                    reasons=item_reasons(item, reading, language),
                    paper_url=settings.SITE_URL
                    + reverse("public:paper", args=[item.paper.arxiv_id])
                    + f"?lang={code}",
                )
            )
    return views


@dataclass(frozen=True)
class UpdateView:
    """A new version of a paper the reader got before: the "updated" section, below the new."""

    update: DigestUpdate
    shown: ShownPaper
    got: str  # "updated: you got v1 on 2026-06-18", in the reader's language
    change: str  # "v2: accepted at ICML", or the model's sentence
    paper_url: str


def update_views(digest: Digest) -> list[UpdateView]:
    """The digest's updated papers with their reading and what changed, in 4 queries."""
    language = digest.subscriber.language
    updates = list(digest.updates.select_related("paper").order_by("pk"))
    if not updates:
        return []
    readings = readings_for([u.paper for u in updates], language)
    changes = changes_for(updates, language)
    code = language_for_translation(language)
    views = []
    with translation.override(code):
        for update in updates:
            previous, sentence = changes[update.pk]
            got = _("updated: you got v%(version)s on %(date)s") % {
                "version": update.previous_version,
                "date": update.previous_date.isoformat(),
            }
            views.append(
                UpdateView(
                    update=update,
                    shown=shown_paper(
                        update.paper, readings[update.paper_id], english_abstract=False
                    ),
                    got=got,
                    change=change_line(update.paper, previous, sentence),
                    paper_url=settings.SITE_URL
                    + reverse("public:paper", args=[update.paper.arxiv_id])
                    + f"?lang={code}",
                )
            )
    return views


def _feedback_url(digest: Digest, item: DigestItem, signal: str) -> str:
    token = feedback_token(
        subscriber_id=digest.subscriber_id, paper_id=item.paper_id, signal=signal
    )
    route = "public:save" if signal == "save" else "public:feedback"  # pages.reader_views
    return settings.SITE_URL + reverse(route, args=[token])


def manage_url(subscriber_id: int) -> str:
    """The e-mail's "manage your profile" link: a page that mails a fresh sign-in link to the
    address on file, so a forwarded e-mail opens nobody's account."""
    return settings.SITE_URL + reverse("public:manage", args=[_manage_token(subscriber_id)])


MANAGE_SALT = "pages.manage"


def _manage_token(subscriber_id: int) -> str:
    return signing.dumps(subscriber_id, salt=MANAGE_SALT, compress=True)


def manage_token_read(token: str) -> int | None:
    """The subscriber id a "manage your profile" link names, or None if it is not ours."""
    try:
        return int(signing.loads(token, salt=MANAGE_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def digest_subject(digest: Digest, views: list[ItemView], updates: int = 0) -> str:
    """The date, the number of papers and the top paper's title, in the reader's language;
    with no new paper, the number of `updates` (new versions of papers the reader got)."""
    return subject_line(digest, len(views), views[0].shown if views else None, updates)


def subject_line(digest: Digest, count: int, top: ShownPaper | None, updates: int = 0) -> str:
    """`digest_subject` from the number of papers and the top one."""
    date = digest.issue_date.isoformat()
    if not count and updates:
        return ngettext(
            "arXiv digest %(date)s: %(count)d updated paper you got before",
            "arXiv digest %(date)s: %(count)d updated papers you got before",
            updates,
        ) % {"date": date, "count": updates}
    if top is None:
        return _("arXiv digest %(date)s: nothing above your threshold today") % {"date": date}
    title = latex_formatting_removed(top.translated_title or top.title)
    title = title if len(title) <= 80 else title[:77].rstrip() + "…"
    return ngettext(
        "arXiv digest %(date)s: %(count)d paper — %(top)s",
        "arXiv digest %(date)s: %(count)d papers — %(top)s",
        count,
    ) % {"date": date, "count": count, "top": title}


GMAIL_CLIP_BYTES = 102 * 1024
HTML_BUDGET = GMAIL_CLIP_BYTES - 2 * 1024  # room for the ESP's tracking pixel and links
# Abstract excerpts in a card (characters of the translation, words of the English): full
# first; shorter when the e-mail would pass the budget, before any paper is left out.
EXCERPTS = ({"translated": 600, "english": 80}, {"translated": 240, "english": 35})


def _cards(views: list[ItemView], excerpt: dict[str, int]) -> list[str]:
    """Each paper's MJML, rendered once: finding how many fit then only joins strings."""
    template = get_template("email/digest_item.mjml")
    return [template.render({"view": view, "excerpt": excerpt}) for view in views]


def kept_first(views: list[ItemView]) -> list[int]:
    """Positions in the order papers are kept when the e-mail is cut: the best paper of each
    reason first (every interest stays in the e-mail), then the others by rank."""
    return kept_order([view.item.reason for view in views])


def kept_order(reasons: list[str]) -> list[int]:
    """`kept_first` from the items' stored reasons, in rank order."""
    firsts: dict[str, int] = {}
    for position, reason in enumerate(reasons):
        firsts.setdefault(reason.split("\n", 1)[0], position)
    chosen = sorted(firsts.values())
    taken = set(chosen)
    return chosen + [p for p in range(len(reasons)) if p not in taken]


def digest_mjml(context: dict, cards: list[str] | None = None, shown: int | None = None) -> str:
    """The e-mail's MJML source with `shown` of its papers (all by default), in rank order."""
    views: list[ItemView] = context["items"]
    cards = _cards(views, EXCERPTS[0]) if cards is None else cards
    shown = len(cards) if shown is None else shown
    kept = sorted(kept_first(views)[:shown])
    trimmed = {
        **context,
        "total": len(views),
        "shown_count": shown,
        "cards": [cards[p] for p in kept],
        "cut": shown < len(views),
    }
    return render_to_string("email/digest.mjml", trimmed)


def _html(context: dict, cards: list[str], shown: int) -> str:
    return lines_wrapped(mjml2html(digest_mjml(context, cards, shown), disable_comments=True))


def _fitting(context: dict[str, Any], views: list[ItemView]) -> tuple[str, int]:
    """The HTML with as many papers as fit the budget on the wire, and how many."""
    cards = _cards(views, EXCERPTS[0])
    html = _html(context, cards, len(views))
    if html_wire_bytes(html) <= HTML_BUDGET:
        return html, len(views)
    cards = _cards(views, EXCERPTS[1])
    low, high = 0, len(views)  # the most papers that fit: binary search
    while low < high:
        middle = (low + high + 1) // 2
        if html_wire_bytes(_html(context, cards, middle)) <= HTML_BUDGET:
            low = middle
        else:
            high = middle - 1
    return _html(context, cards, low), low


def email_context(
    digest: Digest,
    views: list[ItemView],
    updates: list[UpdateView] | None = None,
    *,
    tokens: dict[str, str] | None = None,
    untranslated: int | None = None,
) -> dict[str, Any]:
    """What digest.mjml and digest.txt are rendered with (the fast path in `digests.mail`
    renders the same templates with the same context, its `tokens` signed in bulk: "digest",
    "unsubscribe", "manage"; and `untranslated` counted from its own items)."""
    language = language_for_translation(digest.subscriber.language)
    if tokens is None:
        tokens = {
            "digest": digest_token(digest_id=digest.pk),
            "unsubscribe": unsubscribe_token(
                subscriber_id=digest.subscriber_id, email=digest.subscriber.email
            ),
            "manage": _manage_token(digest.subscriber_id),
        }
    if untranslated is None:
        untranslated = sum(not view.shown.ai_read for view in views)
    return {
        "digest": digest,
        "items": views,
        "updates": update_views(digest) if updates is None else updates,
        "brief": digest.brief,
        "lang": language,
        "site_url": settings.SITE_URL,
        "view_url": settings.SITE_URL + reverse("public:digest", args=[tokens["digest"]]),
        "unsubscribe_url": settings.SITE_URL
        + reverse("subscribers:unsubscribe", args=[tokens["unsubscribe"]]),
        "manage_url": settings.SITE_URL + reverse("public:manage", args=[tokens["manage"]]),
        "translation_off": not llm_enabled(),
        # The LLM was down or out of budget when the day was read: those papers go out on
        # time, in English, and the e-mail says so.
        "untranslated": untranslated if llm_enabled() else 0,
    }


def digest_render(digest: Digest) -> RenderedEmail:
    """Render the digest's e-mail in the reader's language, its HTML under Gmail's clip size.

    Past the size, abstracts are shortened, then papers are left out (the best of each
    interest stays) and the top of the e-mail says how many of how many it holds; the text
    part and the web page always hold every paper. The reference: sending renders the same
    bytes faster through `digests.mail.compose`.
    """
    views = item_views(digest)
    context = email_context(digest, views)
    with translation.override(context["lang"]):
        html, shown = _fitting(context, views)
        text = render_to_string("email/digest.txt", {**context, "total": len(views)})
        subject = digest_subject(digest, views, len(context["updates"]))
    return RenderedEmail(subject=subject, html=html, text=text, shown=shown)
