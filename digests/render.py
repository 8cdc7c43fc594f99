"""Step 5: a digest as an e-mail: Django template → MJML → HTML, plus a plain-text part.

Every piece of paper text is auto-escaped by the template engine: titles and abstracts are
untrusted and reach the reader as text, never as markup or a link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from mjml import mjml2html

from digests.models import Digest

__all__ = ["RenderedEmail", "digest_render"]


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def _subject(digest: Digest, items: list) -> str:
    date = digest.issue_date.isoformat()
    if not items:
        return f"arXiv digest {date}: nothing above your threshold today"
    top = items[0].paper.title
    top = top if len(top) <= 80 else top[:77].rstrip() + "…"
    count = len(items)
    return f"arXiv digest {date}: {count} paper{'s' if count != 1 else ''} — {top}"


def _brief(items: list) -> str:
    """A plain brief for LLM-less mode: how many matched, and through what."""
    if not items:
        return ""
    topics: dict[str, int] = {}
    for item in items:
        if item.topic is not None:
            topics[item.topic.name("en")] = topics.get(item.topic.name("en"), 0) + 1
    parts = [f"{len(items)} of today's papers match your profile."]
    if topics:
        ranked = sorted(topics.items(), key=lambda kv: -kv[1])[:3]
        parts.append("Most are about " + ", ".join(f"{name} ({n})" for name, n in ranked) + ".")
    parts.append(f"The closest match: “{items[0].paper.title}”.")
    return " ".join(parts)


def digest_render(digest: Digest) -> RenderedEmail:
    """Render the digest's e-mail in the reader's language."""
    items = list(digest.items.select_related("paper", "topic").order_by("rank"))
    context = {
        "digest": digest,
        "items": items,
        "brief": digest.brief or _brief(items),
        "site_url": settings.SITE_URL,
        "translation_off": not settings.OPENAI_API_KEY,
    }
    with translation.override(digest.subscriber.language):
        mjml_source = render_to_string("email/digest.mjml", context)
        text = render_to_string("email/digest.txt", context)
    html = mjml2html(mjml_source, disable_comments=True)
    return RenderedEmail(subject=_subject(digest, items), html=html, text=text)
