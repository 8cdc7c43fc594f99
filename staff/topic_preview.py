"""What a topic would have matched on the last announcement day, for the topic's admin page.

The lexical column runs the pipeline's own `lexical_topic_hits` on the topic's current terms;
the LLM column shows the hits the stored LLM readings gave it. Nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from digests.daily import latest_issue_date
from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Enrichment, Paper, Topic
from digests.preview import latest_announce_date
from digests.scoring.lexical import TopicTerms, lexical_topic_hits
from subscribers.models import Subscriber

__all__ = [
    "TopicMatch",
    "TopicPreview",
    "last_announcement_day",
    "topic_followers",
    "topic_preview",
    "topic_terms",
]


@dataclass(frozen=True)
class TopicMatch:
    paper: Paper
    lexical_score: int | None  # None: its keywords do not match
    lexical_reason: str
    llm_score: int | None  # None: no LLM reading gave it this topic
    llm_reason: str

    @property
    def relevance(self) -> int:
        return max(self.lexical_score or 0, self.llm_score or 0)


@dataclass(frozen=True)
class TopicPreview:
    day: dt.date | None  # None: no paper announced yet
    considered: int
    matches: list[TopicMatch]
    followers: int
    active_followers: int


def last_announcement_day() -> dt.date | None:
    """The last ingested announcement day, else the newest paper's day (papers loaded by hand)."""
    return latest_issue_date() or latest_announce_date()


def topic_terms(topic: Topic) -> TopicTerms:
    return TopicTerms(
        slug=topic.slug, keywords=tuple(topic.keywords), categories=tuple(topic.categories)
    )


def topic_followers(topic: Topic) -> tuple[int, int]:
    """How many profiles follow the topic: all of them, and those of active subscribers."""
    profiles = topic.profiles.all()
    active = profiles.filter(subscriber__status=Subscriber.Status.ACTIVE)
    return profiles.count(), active.count()


def _llm_hits(papers: list[Paper], slug: str) -> dict[int, dict]:
    """The best LLM hit on `slug` per paper, over every language's reading of its version."""
    versions = {paper.pk: paper.version for paper in papers}
    best: dict[int, dict] = {}
    readings = Enrichment.objects.filter(
        paper__in=list(versions),
        prompt_version=ENRICH_PROMPT_VERSION,
        status=Enrichment.Status.OK,
    ).values_list("paper_id", "paper_version", "topic_hits")
    for paper_id, version, hits in readings:
        if version != versions[paper_id]:
            continue
        for hit in hits:
            if hit.get("topic") == slug and hit.get("score", 0) > best.get(paper_id, {}).get(
                "score", -1
            ):
                best[paper_id] = hit
    return best


def topic_preview(*, topic: Topic, day: dt.date | None = None) -> TopicPreview:
    """Papers of `day` (default: the last announcement day) the topic matches, best first."""
    followers, active = topic_followers(topic) if topic.pk else (0, 0)
    day = day or last_announcement_day()
    if day is None:
        return TopicPreview(
            day=None, considered=0, matches=[], followers=followers, active_followers=active
        )
    papers = list(Paper.objects.filter(announce_date=day).order_by("arxiv_id"))
    terms = [topic_terms(topic)]
    llm = _llm_hits(papers, topic.slug)
    matches = []
    for paper in papers:
        lexical = lexical_topic_hits(
            title=paper.title, abstract=paper.abstract, categories=paper.categories, topics=terms
        )
        hit = llm.get(paper.pk)
        if not lexical and hit is None:
            continue
        matches.append(
            TopicMatch(
                paper=paper,
                lexical_score=lexical[0]["score"] if lexical else None,
                lexical_reason=lexical[0]["reason"] if lexical else "",
                llm_score=int(hit["score"]) if hit else None,
                llm_reason=str(hit.get("reason", "")) if hit else "",
            )
        )
    matches.sort(key=lambda m: (-m.relevance, m.paper.arxiv_id))
    return TopicPreview(
        day=day,
        considered=len(papers),
        matches=matches,
        followers=followers,
        active_followers=active,
    )
