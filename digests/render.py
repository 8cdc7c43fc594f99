"""Step 5: a digest as an e-mail: Django template → MJML → HTML, plus a plain-text part.

Every piece of paper and model text is auto-escaped by the template engine: titles, abstracts,
summaries and reasons are untrusted and reach the reader as text, never as markup or a link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from mjml import mjml2html

from digests.llm.calls import llm_enabled
from digests.models import Digest, DigestItem
from digests.readings import readings_for
from digests.shown import ShownPaper, shown_paper
from newsletter.i18n import language_for_translation
from subscribers.tokens import digest_token, feedback_token, unsubscribe_token

__all__ = [
    "ItemView",
    "RenderedEmail",
    "digest_mjml",
    "digest_render",
    "digest_subject",
    "item_views",
]


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class ItemView:
    """One item of the e-mail: the shown paper, its rank, and its feedback links."""

    item: DigestItem
    shown: ShownPaper
    more_url: str
    less_url: str


def item_views(digest: Digest) -> list[ItemView]:
    """The digest's items with their reading in the reader's language, in 3 queries.

    The reading is the LLM's in the reader's language, else the lexical one (the paper goes
    out in English). The topic is the item's; its reason the LLM's for that topic, else the
    one assembly gave.
    """
    language = digest.subscriber.language
    items = list(digest.items.select_related("paper", "topic").order_by("rank"))
    readings = readings_for([item.paper for item in items], language)
    views = []
    for item in items:
        reading = readings[item.paper_id]
        reason = item.reason
        if reading.llm is not None:
            hit = next(
                (h for h in reading.llm.topic_hits if item.topic and h["topic"] == item.topic.slug),
                None,
            )
            reason = (hit or {}).get("reason", "")
        shown = shown_paper(
            item.paper,
            reading,
            relevance=item.relevance,
            topic_name=item.topic.name(language) if item.topic else "",
            topic_reason=reason,
        )
        views.append(
            ItemView(
                item=item,
                shown=shown,
                more_url=_feedback_url(digest, item, "more"),
                less_url=_feedback_url(digest, item, "less"),
            )
        )
    return views


def _feedback_url(digest: Digest, item: DigestItem, signal: str) -> str:
    token = feedback_token(
        subscriber_id=digest.subscriber_id, paper_id=item.paper_id, signal=signal
    )
    return settings.SITE_URL + reverse("public:feedback", args=[token])


def digest_subject(digest: Digest, views: list[ItemView]) -> str:
    """The date, the number of papers and the top paper's title, in the reader's language."""
    date = digest.issue_date.isoformat()
    if not views:
        return _("arXiv digest %(date)s: nothing above your threshold today") % {"date": date}
    top = views[0].shown.translated_title or views[0].shown.title
    top = top if len(top) <= 80 else top[:77].rstrip() + "…"
    return ngettext(
        "arXiv digest %(date)s: %(count)d paper — %(top)s",
        "arXiv digest %(date)s: %(count)d papers — %(top)s",
        len(views),
    ) % {"date": date, "count": len(views), "top": top}


GMAIL_CLIP_BYTES = 102 * 1024
HTML_BUDGET = GMAIL_CLIP_BYTES - 2 * 1024  # room for the ESP's tracking pixel and links


def _cards(views: list[ItemView]) -> list[str]:
    """Each paper's MJML, rendered once: finding how many fit then only joins strings."""
    template = get_template("email/digest_item.mjml")
    return [template.render({"view": view}) for view in views]


def digest_mjml(context: dict, cards: list[str] | None = None, shown: int | None = None) -> str:
    """The e-mail's MJML source with its first `shown` papers (all by default)."""
    cards = _cards(context["items"]) if cards is None else cards
    shown = len(cards) if shown is None else shown
    trimmed = {
        **context,
        "items": context["items"][:shown],
        "cards": cards[:shown],
        "more": len(context["items"]) - shown,
    }
    return render_to_string("email/digest.mjml", trimmed)


def _html(context: dict, cards: list[str], shown: int) -> str:
    return mjml2html(digest_mjml(context, cards, shown), disable_comments=True)


def digest_render(digest: Digest) -> RenderedEmail:
    """Render the digest's e-mail in the reader's language, its HTML under Gmail's clip size.

    Past the size, the tail of the list is cut and the e-mail says how many more papers the
    web page holds; the text part always lists every paper.
    """
    views = item_views(digest)
    context = {
        "digest": digest,
        "items": views,
        "more": 0,
        "brief": digest.brief,
        "site_url": settings.SITE_URL,
        "view_url": settings.SITE_URL
        + reverse("public:digest", args=[digest_token(digest_id=digest.pk)]),
        "unsubscribe_url": settings.SITE_URL
        + reverse(
            "subscribers:unsubscribe", args=[unsubscribe_token(subscriber_id=digest.subscriber_id)]
        ),
        "translation_off": not llm_enabled(),
        # The LLM was down or out of budget when the day was read: those papers go out on
        # time, in English, and the e-mail says so.
        "untranslated": sum(not view.shown.ai_read for view in views) if llm_enabled() else 0,
    }
    with translation.override(language_for_translation(digest.subscriber.language)):
        cards = _cards(views)
        html = _html(context, cards, len(views))
        if len(html.encode()) > HTML_BUDGET:
            low, high = 0, len(views)  # the most items that fit: binary search
            while low < high:
                middle = (low + high + 1) // 2
                if len(_html(context, cards, middle).encode()) <= HTML_BUDGET:
                    low = middle
                else:
                    high = middle - 1
            html = _html(context, cards, low)
        text = render_to_string("email/digest.txt", context)
        subject = digest_subject(digest, views)
    return RenderedEmail(subject=subject, html=html, text=text)
