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
from digests.scoring.paper_index import PaperIndex, text_vectors
from digests.scoring.profile_matrices import expand_topics
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.signals import EMBEDDING_FLOOR, TEXT_FLOOR, WEIGHTS

__all__ = ["Pick", "Reason", "digest_pick", "reason_code", "reason_for"]


class Reason:
    """What scored most, as a small code per (reader, paper)."""

    NONE, AUTHOR, KEYWORD, TOPIC, INSTITUTION, TEXT, FEEDBACK, CATEGORY = range(8)
    NAMES = ("", "author", "keyword", "topic", "institution", "interests", "feedback", "category")


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


def _row_columns(matrix, position: int) -> set[int]:
    return set(matrix.indices[matrix.indptr[position] : matrix.indptr[position + 1]].tolist())


def _similarity(vector, index: PaperIndex, position: int) -> float:
    if vector is None or vector.nnz == 0:
        return 0.0
    return float((vector @ index.vectors[position].T).toarray()[0, 0])


def _embedding_cosine(index: PaperIndex, position: int, profile: ProfileRow) -> float:
    if index.embeddings is None or profile.embedding is None:
        return 0.0
    norm = float(np.linalg.norm(profile.embedding))
    if not norm or profile.embedding.shape != index.embeddings[position].shape:
        return 0.0
    return float(index.embeddings[position] @ profile.embedding) / norm


def reason_code(
    *,
    index: PaperIndex,
    position: int,
    profile: ProfileRow,
    parents: dict[str, str],
    text_vector=None,
    more_vector=None,
) -> int:
    """Which signal gave this paper most of its evidence for this reader (as `scoring` weighs)."""
    paper = index.papers[position]
    w = WEIGHTS
    follows = {key for name in profile.authors for key in author_keys_followed(name)}
    written = {key for name in paper.authors for key in author_keys_written(name)}
    columns = {
        index.phrase_ids[c]
        for k in profile.keywords
        for c in phrase_variants(k)
        if c in index.phrase_ids
    }
    topics = expand_topics(profile.topics, parents)
    primary = paper.categories[:1]
    components = {
        Reason.AUTHOR: w["author"] * min(len(follows & written), 1.5),
        Reason.KEYWORD: w["keyword_title"]
        * min(len(columns & _row_columns(index.in_title, position)), 2)
        + w["keyword_abstract"] * min(len(columns & _row_columns(index.in_abstract, position)), 3),
        Reason.TOPIC: w["topic"]
        * min(sum(v / 100 for k, v in paper.topic_hits.items() if k in topics), 1.4),
        Reason.INSTITUTION: w["institution"]
        * any(position in index.institution_papers(i) for i in profile.institutions),
        Reason.TEXT: max(
            w["text"] * max(_similarity(text_vector, index, position) - TEXT_FLOOR, 0),
            w["embedding"] * max(_embedding_cosine(index, position, profile) - EMBEDDING_FLOOR, 0),
        ),
        Reason.FEEDBACK: w["feedback_more"]
        * max(_similarity(more_vector, index, position) - TEXT_FLOOR, 0),
        Reason.CATEGORY: w["category_primary"] * bool(set(primary) & set(profile.categories))
        + w["category_cross"] * bool(set(paper.categories[1:]) & set(profile.categories)),
    }
    code, value = max(components.items(), key=lambda kv: (kv[1], -kv[0]))
    return code if value > 0 else Reason.NONE


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
    return _("category: %(category)s") % {"category": primary}, topic, f"category:{primary}"


def digest_pick(
    *,
    relevance: np.ndarray,
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

    With `serendipity`, the last place goes to the day's most confidently on-topic paper from
    outside the profile, labelled as such.
    """
    eligible = [
        i for i in np.flatnonzero(relevance >= max(minimum, 1)) if index.papers[i].id not in exclude
    ]
    eligible.sort(key=lambda i: (-int(relevance[i]), index.papers[i].id))
    text = " ".join([profile.interests, *profile.seed_texts]).strip()
    text_vector = text_vectors([text]) if text else None
    more_vector = text_vectors([" ".join(profile.more_texts)]) if profile.more_texts else None
    candidates = []
    for i in eligible[: max(limit * 4, limit)]:
        code = reason_code(
            index=index,
            position=i,
            profile=profile,
            parents=parents,
            text_vector=text_vector,
            more_vector=more_vector,
        )
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
