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
from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Digest, DigestItem, Enrichment, Paper
from digests.scoring.lexical import LEXICAL_VERSION
from newsletter.i18n import language_for_translation
from subscribers.tokens import digest_token, feedback_token, unsubscribe_token

__all__ = [
    "ItemView",
    "RenderedEmail",
    "affiliation_pairs",
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
    """What one item shows: the paper, and its reading in the reader's language if any."""

    item: DigestItem
    paper: Paper
    translated_title: str
    translated_abstract: str
    summary: str
    affiliations: list[str]
    topic_name: str
    topic_reason: str
    more_url: str
    less_url: str
    ai_read: bool = False  # the model's reading in the reader's language is there


def affiliation_pairs(originals: list[str], translated: list[str]) -> list[str]:
    """ "Zhejiang University(浙江大学)", as on the reference screens, when a translation exists."""
    pairs = []
    for n, original in enumerate(originals):
        other = translated[n] if n < len(translated) else ""
        pairs.append(f"{original}({other})" if other and other != original else original)
    return pairs


def item_views(digest: Digest) -> list[ItemView]:
    """The digest's items with their enrichment in the reader's language, in 3 queries."""
    language = digest.subscriber.language
    items = list(digest.items.select_related("paper", "topic").order_by("rank"))
    versions = {item.paper_id: item.paper.version for item in items}
    readings: dict[int, Enrichment] = {}
    for enrichment in Enrichment.objects.filter(
        paper__in=list(versions),
        status__in=[Enrichment.Status.OK, Enrichment.Status.LLM_LESS],
    ).filter(
        language__in=[language, "en"], prompt_version__in=[ENRICH_PROMPT_VERSION, LEXICAL_VERSION]
    ):
        if enrichment.paper_version != versions[enrichment.paper_id]:
            continue  # a reading of an older version
        current = readings.get(enrichment.paper_id)
        translated = enrichment.status == Enrichment.Status.OK and enrichment.language == language
        if current is None or translated:
            readings[enrichment.paper_id] = enrichment
    views = []
    for item in items:
        reading = readings.get(item.paper_id)
        is_llm = reading is not None and reading.status == Enrichment.Status.OK
        hit = next(
            (
                h
                for h in (reading.topic_hits if reading else [])
                if item.topic and h["topic"] == item.topic.slug
            ),
            None,
        )
        views.append(
            ItemView(
                item=item,
                paper=item.paper,
                translated_title=reading.title
                if is_llm and reading.title != item.paper.title
                else "",
                translated_abstract=reading.abstract if is_llm else "",
                summary=reading.summary if reading else "",
                affiliations=affiliation_pairs(
                    item.paper.affiliations, reading.affiliations if is_llm else []
                ),
                topic_name=item.topic.name(language) if item.topic else "",
                topic_reason=(hit or {}).get("reason", "") if is_llm else item.reason,
                more_url=_feedback_url(digest, item, "more"),
                less_url=_feedback_url(digest, item, "less"),
                ai_read=is_llm and reading.language == language,
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
    top = views[0].translated_title or views[0].paper.title
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
        "untranslated": sum(not view.ai_read for view in views) if llm_enabled() else 0,
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
