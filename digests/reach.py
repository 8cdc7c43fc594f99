"""Which of a day's papers some reader could receive: the LLM reads only those.

After the lexical reading, every active reader is scored and ranked as assembly would rank them
(`assemble.picks_ranked`: their top `max_items` above their minimum relevance, papers they
were already sent and their own seed papers left out), and the new versions of papers they
got (their digest's "updated" section, `digests.versions`); the union, per reader language,
is what the LLM translates and summarises. The rest
keep the lexical reading. So the LLM's calls a day stay at most papers shown × languages (plus
the briefs, topics × languages), whatever the number of readers and however many archives were
ingested for them. Relevance never depends on the day's other papers, so a weekly reader's
picks of the week are among their picks of each day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from digests.assemble import CHUNK, already_seen, picks_ranked
from digests.models import Paper, Topic
from digests.versions import reader_updates
from subscribers.models import Subscriber

__all__ = ["papers_in_reach"]


def papers_in_reach(
    papers: list[Paper], *, day: dt.date, progress: Callable[[int], None] | None = None
) -> dict[str, set[int]]:
    """Reader language → ids of the papers some active reader in that language would be shown
    on `day` (ranked by `assemble.picks_ranked`, as their digest ranks them)."""
    reach: dict[str, set[int]] = defaultdict(set)
    if not papers:
        return reach
    papers = sorted(papers, key=lambda p: p.pk)
    readers = list(
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE, profile__isnull=False)
        .select_related("profile")
        .prefetch_related("profile__topics")
        .order_by("pk")
    )
    topics = list(Topic.objects.all())
    for start in range(0, len(readers), CHUNK):
        group = readers[start : start + CHUNK]
        seen = already_seen(group, day)
        updates = reader_updates(group, papers, day)
        for subscriber, picks in picks_ranked(group, papers, day, exclude=seen, topics=topics):
            reach[subscriber.language].update(papers[pick.paper].pk for pick in picks)
        for subscriber in group:  # new versions of papers they got: the "updated" section
            reach[subscriber.language].update(n.paper_id for n in updates[subscriber.pk])
        if progress:
            progress(len(group))
    return reach
