"""From one reader's row of scores to their digest: threshold, coverage of every interest, reasons.

Pure functions. The picks cover each of the reader's interests (each followed topic, keyword,
author… gets its best paper in before the rest), so one busy interest does not bury the others;
they are then shown by relevance, the % the reader sees descending. Each pick says why, from the
shares of its score (`scoring.scores.Shares`): every signal that gave a fair part of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from digests.scoring.bm25 import bm25_queries
from digests.scoring.matching import author_keys_followed, author_keys_written
from digests.scoring.paper_index import PaperIndex
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.scores import Shares
from digests.scoring.semantic import semantic_embed
from digests.scoring.signals import Signal

__all__ = ["Pick", "Reason", "digest_pick", "reason_code", "reason_for", "reasons_for"]


class Reason:
    """The reason shown for a paper, as a small code: the signal that gave it most."""

    NONE, AUTHOR, KEYWORD, TOPIC, INSTITUTION, TEXT, FEEDBACK, CATEGORY, PRIOR = range(9)


# Interests as words and as embeddings give one reason; "less like this" is never positive.
_SIGNALS = tuple(Signal)  # by value: a row of `Shares.points`
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
# A signal is named beside the largest when it gave at least this part of the relevance;
# categories (named or inferred) are background and named only when nothing else scored.
SHARE_SHOWN_PERCENT = 15
MOST_REASONS = 4
_BACKGROUND = {Reason.CATEGORY, Reason.PRIOR}


@dataclass(frozen=True)
class Pick:
    paper: int  # index into the day's papers
    relevance: int
    reasons: tuple[str, ...]  # what scored, largest share first, in the active language
    topic: str | None
    interest: str  # the interest this paper serves first (coverage), e.g. "keyword:GRPO"

    @property
    def reason(self) -> str:
        """The reasons on one line, for a preview."""
        return " · ".join(self.reasons)


def _matched_authors(paper: PaperRow, profile: ProfileRow) -> list[str]:
    found: list[str] = []
    for followed in profile.authors:
        keys = author_keys_followed(followed)
        for written in paper.authors:
            if author_keys_written(written) & keys and written not in found:
                found.append(written)
                break
    return found


def _matched_keywords(index: PaperIndex, position: int, profile: ProfileRow) -> list[str]:
    """The reader's keywords (any of their variants) found in the paper's title or abstract."""
    present = index.phrases_in(position)
    return [k for k in profile.keywords if not present.isdisjoint(index.columns_of_keyword[k])]


def _matched_institutions(index: PaperIndex, position: int, profile: ProfileRow) -> list[str]:
    return [name for name in profile.institutions if position in index.institution_papers(name)]


def _followed(slug: str, profile: ProfileRow, parents: dict[str, str]) -> bool:
    while slug:
        if slug in profile.topics:
            return True
        slug = parents.get(slug, "")
    return False


def _matched_topic(paper: PaperRow, profile: ProfileRow, parents: dict[str, str]) -> str | None:
    hits = [
        (score, slug)
        for slug, score in paper.topic_hits.items()
        if _followed(slug, profile, parents)
    ]
    return max(hits)[1] if hits else None


@dataclass
class _Closeness:
    """Which of the reader's texts (free text, seed papers, liked papers) a paper is closest to:
    the in-process model's cosine when there is one, else BM25. Computed once per reader, on
    the first paper that needs it."""

    index: PaperIndex
    profile: ProfileRow
    kinds: list[tuple[str, str]] = field(default_factory=list)  # ("seed", title)…
    _scores: np.ndarray | None = None  # texts × papers

    def __post_init__(self) -> None:
        x = self.profile
        self.texts = []
        if x.interests.strip():
            self.kinds.append(("interests", ""))
            self.texts.append(x.interests)
        for text in x.seed_texts:
            self.kinds.append(("seed", text.split("\n", 1)[0]))
            self.texts.append(text)
        for text in x.more_texts:
            self.kinds.append(("feedback", ""))
            self.texts.append(text)

    def closest(self, position: int) -> tuple[str, str] | None:
        if len(self.kinds) < 2:
            return self.kinds[0] if self.kinds else None
        if self._scores is None:
            vectors = None
            if self.index.semantic is not None:
                vectors = semantic_embed(self.texts, self.index.semantic_model)
            if vectors is not None and self.index.semantic is not None:
                self._scores = vectors @ self.index.semantic.T
            else:
                queries = bm25_queries(self.texts, self.index.idf)
                self._scores = (queries @ self.index.bm25_t).toarray()
        return self.kinds[int(np.argmax(self._scores[:, position]))]


def reason_code(*, shares: Shares, position: int) -> int:
    """The reason of the signal with the largest share of this paper's relevance, as scored."""
    signal = shares.largest(position)
    return Reason.NONE if signal is None else _REASON_OF_SIGNAL[signal]


def _reason_codes(shares: Shares, position: int) -> list[int]:
    """Every reason with a fair share of the relevance, largest first (signals of one reason
    added up); background reasons only when nothing else scored."""
    points: dict[int, float] = {}
    column = shares.points[:, position]
    for row in np.flatnonzero(column > 0).tolist():  # in `Signal` order, as `Shares.of`
        if row != Signal.FEEDBACK_LESS:
            code = _REASON_OF_SIGNAL[_SIGNALS[row]]
            points[code] = points.get(code, 0) + float(column[row])
    if not points:
        return []
    total = sum(points.values())
    ranked = sorted(points, key=lambda code: (-points[code], code))
    shown = [
        c for c in ranked if c not in _BACKGROUND and points[c] * 100 >= SHARE_SHOWN_PERCENT * total
    ]
    return (shown or ranked[:1])[:MOST_REASONS]


def _one_reason(
    code: int,
    *,
    index: PaperIndex,
    position: int,
    profile: ProfileRow,
    topic: str | None,
    topic_names: dict[str, str],
    closeness: Callable[[int], tuple[str, str] | None],
) -> tuple[str, str] | None:
    """One reason in the active language, and the interest it serves; None if it cannot be
    named truthfully (nothing of the profile is found on the paper)."""
    paper = index.papers[position]
    if code == Reason.AUTHOR and (authors := _matched_authors(paper, profile)):
        names = ", ".join(authors)
        text = ngettext(
            "author you follow: %(names)s", "authors you follow: %(names)s", len(authors)
        ) % {"names": names}
        return text, f"author:{authors[0]}"
    if code == Reason.KEYWORD and (keywords := _matched_keywords(index, position, profile)):
        text = ngettext("keyword: %(keywords)s", "keywords: %(keywords)s", len(keywords)) % {
            "keywords": ", ".join(keywords)
        }
        return text, f"keyword:{keywords[0]}"
    if code == Reason.TOPIC and topic:
        return _("topic hit: %(topic)s") % {
            "topic": topic_names.get(topic, topic)
        }, f"topic:{topic}"
    if code == Reason.INSTITUTION and (places := _matched_institutions(index, position, profile)):
        text = ngettext(
            "from %(names)s, an institution you follow",
            "from %(names)s, institutions you follow",
            len(places),
        ) % {"names": ", ".join(places)}
        return text, f"institution:{places[0]}"
    if code == Reason.TEXT and (close := closeness(position)):
        kind, title = close
        if kind == "interests":
            return _("close to your interests"), "interests"
        if kind == "seed":
            return _("close to your seed paper «%(title)s»") % {"title": title}, f"seed:{title}"
        code = Reason.FEEDBACK
    if code == Reason.FEEDBACK:
        return _("like papers you asked more of"), "feedback"
    if code in _BACKGROUND:
        return _category_reason(paper, profile, inferred=code == Reason.PRIOR)
    return None


def _category_reason(paper: PaperRow, profile: ProfileRow, *, inferred: bool) -> tuple[str, str]:
    """The category the reader follows (or seems to read) that the paper is in."""
    primary = paper.categories[0] if paper.categories else ""
    if inferred:
        read = max(
            (c for c in paper.categories if c in profile.inferred_categories),
            key=lambda c: profile.inferred_categories[c],
            default=primary,
        )
        return _("you seem to read %(category)s") % {"category": read}, INFERRED
    named = next((c for c in paper.categories if c in profile.categories), primary)
    return _("category: %(category)s") % {"category": named}, f"category:{named}"


def reasons_for(
    *,
    shares: Shares,
    index: PaperIndex,
    position: int,
    profile: ProfileRow,
    parents: dict[str, str],
    topic_names: dict[str, str],
    closeness: Callable[[int], tuple[str, str] | None] | None = None,
) -> tuple[list[str], str | None, str]:
    """Every reason shown (largest share first, none twice), the followed topic the paper hit
    (if any), and the interest it serves first."""
    topic = _matched_topic(index.papers[position], profile, parents)
    name = partial(
        _one_reason,
        index=index,
        position=position,
        profile=profile,
        topic=topic,
        topic_names=topic_names,
        closeness=closeness or _Closeness(index, profile).closest,
    )
    reasons: list[str] = []
    interest = ""
    for code in _reason_codes(shares, position):
        found = name(code)
        if found and found[0] not in reasons:
            reasons.append(found[0])
            interest = interest or found[1]
    if not reasons:  # a score without a nameable reason: its categories
        paper = index.papers[position]
        text, interest = _category_reason(
            paper, profile, inferred=bool(profile.inferred_categories)
        )
        reasons = [text]
    return reasons, topic, interest


def reason_for(
    *,
    code: int,
    index: PaperIndex,
    position: int,
    profile: ProfileRow,
    parents: dict[str, str],
    topic_names: dict[str, str],
) -> tuple[str, str | None, str]:
    """One reason (`code`'s) shown, the topic it hit (if any), and the interest it serves."""
    topic = _matched_topic(index.papers[position], profile, parents)
    name = partial(
        _one_reason,
        index=index,
        position=position,
        profile=profile,
        topic=topic,
        topic_names=topic_names,
        closeness=_Closeness(index, profile).closest,
    )
    found = name(code) or _category_reason(index.papers[position], profile, inferred=False)
    text, interest = found
    return text, topic, interest


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
    ranked: np.ndarray | None = None,
) -> list[Pick]:
    """The reader's items: above `minimum`, at most `limit`, every interest first served, in
    order of relevance (the best first).

    `relevance` and `shares` are the reader's scores and their shares by signal (`scoring`);
    `ranked`, their best papers first (`Scores.top`; default: every paper sorted here). With
    `serendipity`, the last place goes to the day's most confidently on-topic paper from
    outside the profile (no followed topic, author, keyword or institution), labelled as such.
    """
    if ranked is None:  # the lower id first among equals
        ranked = np.lexsort((np.arange(len(relevance)), -relevance.astype(np.int16)))
    floor, papers = max(minimum, 1), index.papers
    eligible = [int(i) for i in ranked if relevance[i] >= floor and papers[i].id not in exclude]
    closeness = _Closeness(index, profile).closest
    candidates = []
    for i in map(int, eligible[: max(limit * 4, limit)]):
        reasons, topic, interest = reasons_for(
            shares=shares,
            index=index,
            position=i,
            profile=profile,
            parents=parents,
            topic_names=topic_names,
            closeness=closeness,
        )
        candidates.append(Pick(i, int(relevance[i]), tuple(reasons), topic, interest))
    first, seen = [], set()
    for pick in candidates:  # best paper of each stated interest, in order of relevance
        if pick.interest not in seen and pick.interest != INFERRED:
            seen.add(pick.interest)
            first.append(pick)
    first = first[:limit]
    chosen = {p.paper for p in first}
    rest = [p for p in candidates if p.paper not in chosen]
    picks = (first + rest)[: limit - 1 if serendipity else limit]
    if serendipity:
        taken = {p.paper for p in picks}
        surprise = _serendipitous(
            index, relevance, shares, profile, parents, taken, exclude, topic_names
        )
        if surprise is not None:
            picks.append(surprise)
    # Shown by relevance: what the reader sees descends; coverage decided what is in.
    picks.sort(key=lambda p: (-p.relevance, index.papers[p.paper].id))
    return picks


INFERRED = "inferred"  # a category they seem to read: an interest not stated, no place of its own

_PROFILE_SIGNALS = (Signal.AUTHOR, Signal.KEYWORD, Signal.TOPIC, Signal.INSTITUTION)


def _serendipitous(
    index: PaperIndex,
    relevance: np.ndarray,
    shares: Shares,
    profile: ProfileRow,
    parents: dict[str, str],
    taken: set[int],
    exclude: set[int],
    topic_names: dict[str, str],
) -> Pick | None:
    """The day's strongest topic hit outside the reader's followed topic tree, on a paper no
    followed author, keyword or institution scored."""
    best: tuple[float, int, str] | None = None
    for i, paper in enumerate(index.papers):
        if i in taken or paper.id in exclude or not paper.topic_hits:
            continue
        if any(_followed(slug, profile, parents) for slug in paper.topic_hits):
            continue
        scored = shares.of(i)
        if any(scored.get(signal, 0) > 0 for signal in _PROFILE_SIGNALS):
            continue
        slug, score = max(paper.topic_hits.items(), key=lambda kv: (kv[1], kv[0]))
        if best is None or (score, -i) > (best[0], -best[1]):
            best = (score, i, slug)
    if best is None:
        return None
    score, i, slug = best
    name = topic_names.get(slug, slug)
    reason = _("outside your profile: a strong paper in %(topic)s") % {"topic": name}
    return Pick(i, int(relevance[i]), (reason,), slug, "serendipity")
