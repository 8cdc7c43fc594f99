"""From one reader's row of scores to their digest: threshold, coverage of every interest, reasons.

Pure functions. The top of a digest covers each of the reader's interests (each followed topic,
keyword and author gets its best paper in first), so one busy interest does not bury the others;
then the rest follows by relevance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _

from digests.scoring.matching import author_keys_followed, author_keys_written, phrase_variants
from digests.scoring.paper_index import PaperIndex
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.scores import Shares
from digests.scoring.signals import Signal

__all__ = ["Pick", "Reason", "digest_pick", "reason_code", "reason_for"]


class Reason:
    """The reason shown for a paper, as a small code: the signal that gave it most."""

    NONE, AUTHOR, KEYWORD, TOPIC, INSTITUTION, TEXT, FEEDBACK, CATEGORY, PRIOR = range(9)
    NAMES = (
        "",
        "author",
        "keyword",
        "topic",
        "institution",
        "interests",
        "feedback",
        "category",
        "prior",
    )


# Interests as words and as embeddings give one reason; "less like this" is never positive.
_REASON_OF_SIGNAL = {
    Signal.AUTHOR: Reason.AUTHOR,
    Signal.KEYWORD: Reason.KEYWORD,
    Signal.TOPIC: Reason.TOPIC,
    Signal.INSTITUTION: Reason.INSTITUTION,
    Signal.TEXT: Reason.TEXT,
    Signal.EMBEDDING: Reason.TEXT,
    Signal.FEEDBACK_MORE: Reason.FEEDBACK,
    Signal.FEEDBACK_LESS: Reason.FEEDBACK,
    Signal.CATEGORY: Reason.CATEGORY,
    Signal.SEMANTIC: Reason.TEXT,
    Signal.PRIOR: Reason.PRIOR,
}


@dataclass(frozen=True)
class Pick:
    paper: int  # index into the day's papers
    relevance: int
    reason: str
    topic: str | None
    interest: str


def _matched_author(paper: PaperRow, profile: ProfileRow) -> str | None:
    for followed in profile.authors:
        keys = author_keys_followed(followed)
        for written in paper.authors:
            if author_keys_written(written) & keys:
                return written
    return None


def _matched_keyword(index: PaperIndex, position: int, profile: ProfileRow) -> str | None:
    for keyword in profile.keywords:
        for variant in phrase_variants(keyword):
            column = index.phrase_ids.get(variant)
            if column is None:
                continue
            if index.in_title[position, column] or index.in_abstract[position, column]:
                return keyword
    return None


def _matched_topic(paper: PaperRow, profile: ProfileRow, parents: dict[str, str]) -> str | None:
    def followed(slug: str) -> bool:
        while slug:
            if slug in profile.topics:
                return True
            slug = parents.get(slug, "")
        return False

    hits = [(score, slug) for slug, score in paper.topic_hits.items() if followed(slug)]
    return max(hits)[1] if hits else None


def reason_code(*, shares: Shares, position: int) -> int:
    """The reason of the signal with the largest share of this paper's relevance, as scored."""
    signal = shares.largest(position)
    return Reason.NONE if signal is None else _REASON_OF_SIGNAL[signal]


def reason_for(
    *,
    code: int,
    index: PaperIndex,
    position: int,
    profile: ProfileRow,
    parents: dict[str, str],
    topic_names: dict[str, str],
) -> tuple[str, str | None, str]:
    """The reason shown, the topic it hit (if any), and the interest it serves."""
    paper = index.papers[position]
    topic = _matched_topic(paper, profile, parents)
    if code == Reason.AUTHOR and (author := _matched_author(paper, profile)):
        return _("author you follow: %(name)s") % {"name": author}, topic, f"author:{author}"
    if code == Reason.KEYWORD and (keyword := _matched_keyword(index, position, profile)):
        return _("keyword: %(keyword)s") % {"keyword": keyword}, topic, f"keyword:{keyword}"
    if code == Reason.TOPIC and topic:
        name = topic_names.get(topic, topic)
        return _("topic hit: %(topic)s") % {"topic": name}, topic, f"topic:{topic}"
    if code == Reason.INSTITUTION:
        return _("from an institution you follow"), topic, "institution"
    if code == Reason.TEXT:
        return _("close to your interests and seed papers"), topic, "interests"
    if code == Reason.FEEDBACK:
        return _("like papers you asked more of"), topic, "feedback"
    primary = paper.categories[0] if paper.categories else ""
    if code == Reason.PRIOR:
        read = max(
            (c for c in paper.categories if c in profile.inferred_categories),
            key=lambda c: profile.inferred_categories[c],
            default=primary,
        )
        return _("you seem to read %(category)s") % {"category": read}, topic, f"category:{read}"
    return _("category: %(category)s") % {"category": primary}, topic, f"category:{primary}"


def digest_pick(
    *,
    relevance: np.ndarray,
    shares: Shares,
    index: PaperIndex,
    profile: ProfileRow,
    minimum: int,
    limit: int,
    exclude: set[int],
    parents: dict[str, str],
    topic_names: dict[str, str],
    serendipity: bool = False,
) -> list[Pick]:
    """The reader's items: above `minimum`, at most `limit`, every interest first served.

    `relevance` and `shares` are the reader's scores and their shares by signal (`scoring`):
    each item's reason is the signal with the largest share.

    With `serendipity`, the last place goes to the day's most confidently on-topic paper from
    outside the profile, labelled as such.
    """
    eligible = [
        i for i in np.flatnonzero(relevance >= max(minimum, 1)) if index.papers[i].id not in exclude
    ]
    eligible.sort(key=lambda i: (-int(relevance[i]), index.papers[i].id))
    candidates = []
    for i in map(int, eligible[: max(limit * 4, limit)]):
        code = reason_code(shares=shares, position=i)
        reason, topic, interest = reason_for(
            code=code,
            index=index,
            position=i,
            profile=profile,
            parents=parents,
            topic_names=topic_names,
        )
        candidates.append(Pick(int(i), int(relevance[i]), reason, topic, interest))
    first, seen = [], set()
    for pick in candidates:  # best paper of each interest, in order of relevance
        if pick.interest not in seen:
            seen.add(pick.interest)
            first.append(pick)
    first = first[:limit]
    chosen = {p.paper for p in first}
    rest = [p for p in candidates if p.paper not in chosen]
    picks = (first + rest)[: limit - 1 if serendipity else limit]
    if serendipity:
        surprise = _serendipitous(index, relevance, {p.paper for p in picks}, exclude, topic_names)
        if surprise is not None:
            picks.append(surprise)
    return picks


def _serendipitous(
    index: PaperIndex,
    relevance: np.ndarray,
    taken: set[int],
    exclude: set[int],
    topic_names: dict[str, str],
) -> Pick | None:
    best: tuple[float, int, str] | None = None
    for i, paper in enumerate(index.papers):
        if i in taken or paper.id in exclude or not paper.topic_hits:
            continue
        slug, score = max(paper.topic_hits.items(), key=lambda kv: (kv[1], kv[0]))
        if best is None or (score, -i) > (best[0], -best[1]):
            best = (score, i, slug)
    if best is None:
        return None
    score, i, slug = best
    name = topic_names.get(slug, slug)
    reason = _("outside your profile: a strong paper in %(topic)s") % {"topic": name}
    return Pick(i, int(relevance[i]), reason, slug, "serendipity")
