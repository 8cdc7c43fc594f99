"""What a topic would have matched on the last announcement day, for the topic's admin page.

The lexical column runs the pipeline's own `lexical_topic_hits` on the topic's current terms;
the LLM column shows the hits the stored LLM readings gave it. Nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from digests.enrich import topic_terms
from digests.models import Paper, Topic
from digests.readings import Reading, latest_issue_date, readings_for
from digests.scoring.lexical import lexical_topic_hits
from digests.shown import ShownPaper, shown_paper
from subscribers.models import Subscriber

__all__ = [
    "TopicMatch",
    "TopicPreview",
    "topic_followers",
    "topic_preview",
]


@dataclass(frozen=True)
class TopicMatch:
    shown: ShownPaper
    lexical_score: int | None  # None: its keywords do not match
    lexical_reason: str
    llm_score: int | None  # None: no LLM reading gave it this topic
    llm_reason: str

    @property
    def relevance(self) -> int:
        """The better of the two scores (`shown.relevance`)."""
        return self.shown.relevance or 0


@dataclass(frozen=True)
class TopicPreview:
    day: dt.date | None  # None: no paper announced yet
    considered: int
    matches: list[TopicMatch]
    followers: int
    active_followers: int


def topic_followers(topic: Topic) -> tuple[int, int]:
    """How many profiles follow the topic: all of them, and those of active subscribers."""
    profiles = topic.profiles.all()
    active = profiles.filter(subscriber__status=Subscriber.Status.ACTIVE)
    return profiles.count(), active.count()


def _llm_hit(reading: Reading, slug: str) -> dict | None:
    """The best LLM hit on `slug`, over every language's reading of the paper's version."""
    best: dict | None = None
    for llm in reading.every_language:
        for hit in llm.topic_hits:
            if hit.get("topic") == slug and hit.get("score", 0) > (best or {}).get("score", -1):
                best = hit
    return best


def topic_preview(*, topic: Topic, day: dt.date | None = None) -> TopicPreview:
    """Papers of `day` (default: the last announcement day) the topic matches, best first."""
    followers, active = topic_followers(topic) if topic.pk else (0, 0)
    day = day or latest_issue_date(source="ingest-or-papers")
    if day is None:
        return TopicPreview(
            day=None, considered=0, matches=[], followers=followers, active_followers=active
        )
    papers = list(Paper.objects.filter(announce_date=day).order_by("arxiv_id"))
    terms = [topic_terms(topic)]
    readings = readings_for(papers, settings.LANGUAGE_CODE)  # the admin's language
    matches = []
    for paper in papers:
        lexical = lexical_topic_hits(
            title=paper.title, abstract=paper.abstract, categories=paper.categories, topics=terms
        )
        reading = readings[paper.pk]
        hit = _llm_hit(reading, topic.slug)
        if not lexical and hit is None:
            continue
        lexical_score = lexical[0]["score"] if lexical else None
        llm_score = int(hit["score"]) if hit else None
        relevance = max(lexical_score or 0, llm_score or 0)
        matches.append(
            TopicMatch(
                shown=shown_paper(paper, reading, relevance=relevance),
                lexical_score=lexical_score,
                lexical_reason=lexical[0]["reason"] if lexical else "",
                llm_score=llm_score,
                llm_reason=str(hit.get("reason", "")) if hit else "",
            )
        )
    matches.sort(key=lambda m: (-m.relevance, m.shown.arxiv_id))
    return TopicPreview(
        day=day,
        considered=len(papers),
        matches=matches,
        followers=followers,
        active_followers=active,
    )
