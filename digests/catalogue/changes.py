"""What a change to a topic makes stale, and making it so, for the last announcement day.

Two readings carry topic hits (see `enrich`): the lexical one, computed from the topics'
keywords and categories, and the LLM one, whose prompt holds each topic's slug, name and
description (`enrich._catalogue`). `enrich` redoes a reading that is missing, so:

- lexical readings the change touches are deleted and redone at once with the pipeline's own
  `lexical_enrich` (pure and cheap: no network);
- LLM readings the change may touch are deleted, and the next enrichment of the day redoes
  them (the caller queues it). Until then the papers show their lexical reading.

"May touch": papers whose reading named the topic, and papers its old or new keywords match.
A paper the LLM would newly tie to the topic from a new description alone is not found this
way; re-reading every paper of the day for each edit would cost the whole day's tokens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction

from digests.enrich import lexical_enrich, topic_terms
from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Enrichment, Paper, Topic
from digests.readings import latest_issue_date
from digests.scoring.lexical import LEXICAL_VERSION, TopicTerms, lexical_topic_hits

__all__ = [
    "LEXICAL_FIELDS",
    "LLM_FIELDS",
    "StaleReadings",
    "topic_change_apply",
    "topic_changed_fields",
]

LEXICAL_FIELDS = frozenset({"slug", "keywords", "categories"})
LLM_FIELDS = frozenset({"slug", "names", "descriptions", "keywords"})  # enrich's catalogue
WATCHED_FIELDS = LEXICAL_FIELDS | LLM_FIELDS


@dataclass(frozen=True)
class StaleReadings:
    day: dt.date | None
    lexical_redone: int  # papers whose lexical topic hits were recomputed now
    llm_discarded: int  # papers whose LLM reading will be redone at the next enrichment

    def message(self) -> str:
        """One line for the admin, saying what happened and what will."""
        if self.day is None or not (self.lexical_redone or self.llm_discarded):
            return ""
        parts = []
        if self.lexical_redone:
            parts.append(f"the lexical topic hits of {self.lexical_redone} papers were recomputed")
        if self.llm_discarded:
            parts.append(
                f"{self.llm_discarded} papers will be read again by the LLM at the next "
                "enrichment (queued now)"
            )
        return f"Papers of {self.day}: " + "; ".join(parts) + "."


def topic_changed_fields(before: Topic | None, after: Topic) -> set[str]:
    """The watched fields that differ; every watched field for a new topic."""
    if before is None:
        return set(WATCHED_FIELDS)
    return {name for name in WATCHED_FIELDS if getattr(before, name) != getattr(after, name)}


def _matched(papers: list[Paper], terms: TopicTerms) -> set[int]:
    if not terms.keywords:
        return set()
    return {
        paper.pk
        for paper in papers
        if lexical_topic_hits(
            title=paper.title, abstract=paper.abstract, categories=paper.categories, topics=[terms]
        )
    }


def _named(readings: list[Enrichment], slugs: Collection[str]) -> set[int]:
    return {
        reading.paper_id
        for reading in readings
        if any(hit.get("topic") in slugs for hit in reading.topic_hits)
    }


@transaction.atomic
def topic_change_apply(
    *, before: Topic | None, after: Topic, day: dt.date | None = None
) -> StaleReadings:
    """Make stale what the change from `before` (None: a new topic) to `after` touches."""
    changed = topic_changed_fields(before, after)
    day = day or latest_issue_date(source="ingest-or-papers")
    if day is None or not changed:
        return StaleReadings(day=day, lexical_redone=0, llm_discarded=0)
    papers = list(Paper.objects.filter(announce_date=day))
    slugs = {after.slug} | ({before.slug} if before else set())
    by_keywords = _matched(papers, topic_terms(after))
    if before is not None:
        by_keywords |= _matched(papers, topic_terms(before))
    readings = list(
        Enrichment.objects.filter(
            paper__in=papers, prompt_version__in=[LEXICAL_VERSION, ENRICH_PROMPT_VERSION]
        ).only("paper_id", "prompt_version", "topic_hits")
    )
    lexical = [r for r in readings if r.prompt_version == LEXICAL_VERSION]
    llm = [r for r in readings if r.prompt_version == ENRICH_PROMPT_VERSION]

    redo: set[int] = set()
    if changed & LEXICAL_FIELDS:
        redo = (_named(lexical, slugs) | by_keywords) & {r.paper_id for r in lexical}
        Enrichment.objects.filter(
            paper__in=redo, prompt_version=LEXICAL_VERSION, language="en"
        ).delete()
        lexical_enrich([paper for paper in papers if paper.pk in redo])
    discard: set[int] = set()
    if changed & LLM_FIELDS:
        discard = (_named(llm, slugs) | by_keywords) & {r.paper_id for r in llm}
        Enrichment.objects.filter(paper__in=discard, prompt_version=ENRICH_PROMPT_VERSION).delete()
    return StaleReadings(day=day, lexical_redone=len(redo), llm_discarded=len(discard))
