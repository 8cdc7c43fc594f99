"""Which of a day's papers some reader could receive: the LLM reads only those.

After the lexical reading, every active reader is scored and ranked as assembly would rank them
(`scoring` → `ranking.digest_pick`: their top `max_items` above their minimum relevance); the
union of their picks, per reader language, is what the LLM translates and summarises. The rest
keep the lexical reading. So the LLM's calls a day stay at most papers shown × languages (plus
the briefs, topics × languages), whatever the number of readers and however many archives were
ingested for them. Relevance never depends on the day's other papers, so a weekly reader's
picks of the week are among their picks of each day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from digests.models import Paper
from digests.ranking import digest_pick
from digests.scoring.inputs import paper_rows, profile_rows, topic_parents
from digests.scoring.paper_index import PaperIndex
from digests.scoring.scores import scores_compute
from subscribers.models import Subscriber

__all__ = ["papers_in_reach"]

CHUNK = 2000  # readers scored together


def papers_in_reach(
    papers: list[Paper], *, progress: Callable[[int], None] | None = None
) -> dict[str, set[int]]:
    """Reader language → ids of the papers some active reader in that language would be shown."""
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
    parents = topic_parents()
    rows_of_papers = paper_rows(papers)
    for start in range(0, len(readers), CHUNK):
        group = readers[start : start + CHUNK]
        by_id = {s.pk: s for s in group}
        rows = profile_rows(group)
        rows_by_id = {r.id: r for r in rows}
        index = PaperIndex(rows_of_papers, rows)
        for chunk in scores_compute(index.papers, rows, parents=parents, chunk=CHUNK, index=index):
            for position, subscriber_id in enumerate(chunk.profile_ids):
                subscriber = by_id[subscriber_id]
                picks = digest_pick(
                    relevance=chunk.relevance[position],
                    shares=chunk.shares(position),
                    index=index,
                    profile=rows_by_id[subscriber_id],
                    minimum=subscriber.profile.min_relevance,
                    limit=subscriber.profile.max_items,
                    exclude=set(),
                    parents=parents,
                    topic_names={},
                    serendipity=subscriber.profile.serendipity,
                )
                reach[subscriber.language].update(papers[pick.paper].pk for pick in picks)
        if progress:
            progress(len(group))
    return reach
