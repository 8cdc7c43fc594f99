"""A chunk's items in bulk: what `render.item_views` gives each digest, in a few queries and
without a model instance per item.

One query for the chunk's items (plain rows), one for their papers, one for their topics, one
for the readings per language, one for which digests carry updated papers. Each paper's shown
reading, page link and card key are made once per language (`PaperShown`); a reader's item is
then its rank, relevance, reasons (made once per distinct reason and paper) and its three
signed links (`FeedbackSigner`).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from digests.mail.links import FeedbackSigner
from digests.models import Digest, DigestItem, DigestUpdate, Paper, Topic
from digests.readings import readings_for
from digests.render import ItemView, item_reasons
from digests.shown import ShownPaper, shown_paper
from newsletter.i18n import language_for_translation

__all__ = [
    "PaperShown",
    "ReaderItem",
    "digests_with_updates",
    "link_fields",
    "link_route",
    "paper_shown",
    "papers_shown",
    "reader_items_bulk",
]


def link_fields() -> dict[str, str]:
    """ItemView's signed per-reader links, field → signal ("more_url" → "more", …)."""
    return {
        f.name: f.name.removesuffix("_url")
        for f in dataclasses.fields(ItemView)
        if f.name.endswith("_url") and f.name != "paper_url"
    }


def link_route(signal: str) -> str:
    # as render._feedback_url: "save for later" has its own page (pages.reader_views)
    return "public:save" if signal == "save" else "public:feedback"


@dataclass(frozen=True, slots=True)
class PaperShown:
    """A paper as readers of one language are shown it (the same for all of them)."""

    shown: ShownPaper
    paper_url: str
    key: tuple  # what its card is compiled from


@dataclass(frozen=True, slots=True)
class ReaderItem:
    """One item of one reader's e-mail: what differs between readers of the paper."""

    rank: int
    relevance: int
    reason: str  # as stored: its first line says which interest brought the paper
    reasons: tuple[str, ...]  # shown, in the reader's language
    paper: PaperShown
    tokens: tuple[str, ...]  # signed, in the order of `link_fields()`


def paper_shown(paper: Paper, reading: Any, code: str) -> PaperShown:
    """The paper as readers of language `code` are shown it, with its reading (`readings_for`)."""
    seen = shown_paper(paper, reading, english_abstract=False)
    url = settings.SITE_URL + reverse("public:paper", args=[paper.arxiv_id]) + f"?lang={code}"
    return PaperShown(seen, url, _shown_key(seen, url))


def papers_shown(papers: Sequence[Paper], language: str) -> list[PaperShown]:
    """The papers as readers of `language` are shown them (what their cards are made of)."""
    readings = readings_for(papers, language)
    code = language_for_translation(language)
    return [paper_shown(p, readings[p.pk], code) for p in papers]


def _shown_key(shown: ShownPaper, paper_url: str) -> tuple:
    paper = shown.paper
    return (
        paper.pk,
        paper.version,
        shown.language,
        shown.translated_title,
        shown.translated_abstract,
        tuple(shown.affiliations),
        shown.summary,
        shown.summary_is_ai,
        paper_url,
    )


class _Item:
    """What `item_reasons` reads of an item."""

    __slots__ = ("reason", "topic")

    def __init__(self, reason: str, topic: Topic | None) -> None:
        self.reason, self.topic = reason, topic


def reader_items_bulk(digests: Sequence[Digest]) -> dict[int, list[ReaderItem]]:
    """Per digest id, its items in rank order (the same as `item_views(digest)` shows)."""
    rows: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    found = (
        DigestItem.objects.filter(digest__in=[d.pk for d in digests])
        .order_by("digest_id", "rank")
        .values_list("digest_id", "paper_id", "rank", "relevance", "reason", "topic_id")
    )
    for row in found:
        rows[row[0]].append(row)
    papers = Paper.objects.in_bulk({r[1] for group in rows.values() for r in group})
    topics = Topic.objects.in_bulk({r[5] for group in rows.values() for r in group if r[5]})
    languages: dict[str, list[Digest]] = defaultdict(list)
    for digest in digests:
        languages[digest.subscriber.language].append(digest)
    signer = FeedbackSigner()
    signals = list(link_fields().values())
    out: dict[int, list[ReaderItem]] = {}
    for language, group in languages.items():
        held = {r[1]: papers[r[1]] for d in group for r in rows[d.pk]}
        readings = readings_for(held.values(), language)
        code = language_for_translation(language)
        shown: dict[int, PaperShown] = {}
        reasons: dict[tuple, tuple[str, ...]] = {}
        with translation.override(code):
            for digest in group:
                items = []
                for _d, pid, rank, relevance, reason, topic_id in rows[digest.pk]:
                    paper = shown.get(pid)
                    if paper is None:
                        paper = shown[pid] = paper_shown(held[pid], readings[pid], code)
                    key = (reason, topic_id, pid if topic_id else 0)
                    why = reasons.get(key)
                    if why is None:
                        item = _Item(reason, topics.get(topic_id) if topic_id else None)
                        why = reasons[key] = item_reasons(item, readings[pid], language)  # type: ignore[arg-type]
                    sid = digest.subscriber_id
                    items.append(
                        ReaderItem(
                            rank,
                            relevance,
                            reason,
                            why,
                            paper,
                            tuple(signer.token(sid, pid, signal) for signal in signals),
                        )
                    )
                out[digest.pk] = items
    return out


def digests_with_updates(digests: Sequence[Digest]) -> set[int]:
    """The digests that carry updated papers (the others need no `update_views` queries)."""
    return set(
        DigestUpdate.objects.filter(digest__in=[d.pk for d in digests]).values_list(
            "digest_id", flat=True
        )
    )
