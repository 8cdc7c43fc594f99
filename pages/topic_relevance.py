"""The relevance a topic page shows: the scorer's, for a reader who follows only that topic.

The e-mail, the profile editor's preview and the topic page show one relevance, the scorer's
100 × (1 − e^−evidence) (`digests.scoring.scores`). A topic page ranks the day's papers as they
score for a profile that follows that topic alone (its sub-topics count, as for any reader) and
holds nothing else, with the profile's defaults (replacements damped): the percentage a reader
following only that topic sees in their e-mail. The scorer's own inputs (`scoring.inputs`) and
scores are run once per day for every topic together (one row each: vectorised, cheap), and the
figures are cached a few minutes.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.core.cache import cache

from digests.models import Paper
from digests.models.paper import announced_between
from digests.scoring.inputs import paper_rows
from digests.scoring.paper_index import PaperIndex
from digests.scoring.rows import ProfileRow
from digests.scoring.scores import scores_compute
from subscribers.models import InterestProfile

__all__ = ["CACHE_SECONDS", "DayRelevance", "topic_day_relevance"]

CACHE_SECONDS = 10 * 60  # readings of the latest day arrive for a while after ingestion
# Per topic slug: paper id → (relevance 1–100, arXiv id for ties).
DayRelevance = dict[str, dict[int, tuple[int, str]]]


def _key(day: dt.date) -> str:
    return f"topic-relevance:{day.isoformat()}"


def _one_topic_profile(position: int, slug: str) -> ProfileRow:
    """A reader following `slug` and nothing else, as `profile_rows` would read them."""
    include_updates = InterestProfile._meta.get_field("include_updates").get_default()
    return ProfileRow(id=position, topics=[slug], include_updates=bool(include_updates))


def _score_day(papers: list[Paper], slugs: list[str], parents: dict[str, str]) -> DayRelevance:
    profiles = [_one_topic_profile(position, slug) for position, slug in enumerate(slugs)]
    index = PaperIndex(paper_rows(papers), profiles)
    found: DayRelevance = {}
    for chunk in scores_compute(index.papers, profiles, parents=parents, index=index, workers=1):
        for position, profile_id in enumerate(chunk.profile_ids):
            relevance = chunk.relevance[position]
            found[slugs[profile_id]] = {
                papers[i].pk: (int(relevance[i]), papers[i].arxiv_id)
                for i in map(int, np.flatnonzero(relevance))
            }
    return found


def topic_day_relevance(
    *, day: dt.date, slug: str, slugs: list[str], parents: dict[str, str]
) -> tuple[dict[int, tuple[int, str]], dict[int, Paper] | None]:
    """The day's papers scoring at least 1 for a reader of `slug` alone, and the papers read.

    `slugs`: every topic (all are scored at once, for the next page asked); `parents`: each
    sub-topic's parent. The papers come back when they were read (not cached) so the page needs
    not read them again; None when the figures came from the cache.
    """
    cached: DayRelevance | None = cache.get(_key(day))
    if cached is not None:
        return cached.get(slug, {}), None
    papers = list(Paper.objects.filter(announced_between(day, day)).order_by("pk"))
    scored = _score_day(papers, sorted(slugs), parents) if papers and slugs else {}
    cache.set(_key(day), scored, CACHE_SECONDS)
    return scored.get(slug, {}), {p.pk: p for p in papers}
