"""Step 3: relevance 0–100 of every paper for every reader, in one vectorised pass.

Pure functions over arrays: no database, no network, no LLM call. Each signal (`signals`) gives
evidence; the evidence adds up and relevance = 100 × (1 − e^(−evidence)). Nothing depends on
the day's other papers, so a paper and a profile get the same score on any day, and a minimum
relevance of 60 always means the same thing. Readers are scored in chunks, so memory stays
bounded. Each chunk also gives, on demand, each signal's share of a reader's relevance: the
same arithmetic, signal by signal, so the reason shown is the signal that scored most.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from digests.arxiv.taxonomy import ALIASES
from digests.scoring.bm25 import MAX_NORMALISED
from digests.scoring.evidence import ChunkSum, coo_sum
from digests.scoring.paper_index import PaperIndex
from digests.scoring.products import product
from digests.scoring.profile_matrices import ProfileMatrices, TextSimilarity
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.signals import (
    CAPS,
    EMBEDDING_FLOOR,
    PRIOR_ALONE,
    REPLACEMENT_FACTOR,
    SEMANTIC_FLOOR,
    TEXT_FLOOR,
    WEIGHTS,
    Signal,
)
from digests.scoring.top import top_papers

__all__ = ["Scores", "Shares", "scores_compute", "top_papers"]


@dataclass(frozen=True)
class Shares:
    """Each signal's share of one reader's relevance, in points, for every paper of the day.

    `points` is signals × papers (rows in `Signal` order): a paper's shares add up to its
    relevance before rounding; less-like-this feedback's share is negative or zero.
    """

    points: np.ndarray

    def of(self, paper: int) -> dict[Signal, float]:
        """The signals that moved this paper's relevance, with their points."""
        column = self.points[:, paper]
        return {signal: float(column[signal]) for signal in Signal if column[signal]}

    def largest(self, paper: int) -> Signal | None:
        """The signal with the largest share (the first in `Signal` order on a tie), if positive."""
        column = self.points[:, paper]
        best = int(np.argmax(column))
        return Signal(best) if column[best] > 0 else None


@dataclass(frozen=True)
class _Parts:
    """A chunk's evidence signal by signal, as `_chunk_scores` summed it, kept so that a
    reader's shares are sliced from it rather than computed again."""

    by_signal: list[tuple[Signal, sparse.csr_matrix]]  # readers × papers
    dense: list[tuple[Signal, np.ndarray, np.ndarray]]  # readers that have any, their rows
    excluded: sparse.csr_matrix  # readers × papers: an excluded keyword is there
    wants_updates: np.ndarray  # readers
    damping: np.ndarray  # papers


@dataclass
class Scores:
    """One chunk of readers: relevance 0–100 (readers × papers, uint8), and their shares."""

    profile_ids: list[int]
    relevance: np.ndarray
    parts: _Parts = field(repr=False, compare=False)
    # With `scores_compute(top=k)`: each reader's k most relevant papers (readers × k), best
    # first, the lower index first among equals; sorted in the worker thread with the scores.
    top: np.ndarray | None = field(default=None, repr=False, compare=False)

    def shares(self, position: int) -> Shares:
        """Each signal's share of the relevance of reader `position` of this chunk."""
        return _shares(self.parts, position, self.relevance.shape[1])


def _capped(product: sparse.spmatrix, cap: float, weight: float) -> sparse.csr_matrix:
    product = product.tocsr()
    np.minimum(product.data, cap, out=product.data)
    product.data *= weight
    return product


def _similar(
    rows: sparse.csr_matrix, vectors_t: sparse.csr_matrix, weight: float
) -> sparse.csr_matrix:
    similarity = product(rows, vectors_t)
    # Below the floor is noise: not carried further. Most products are; the few above it are
    # picked first and only they computed (min(x, MAX) − floor > 0 exactly when x > floor).
    kept = np.flatnonzero(similarity.data[: similarity.indptr[-1]] > np.float32(TEXT_FLOOR))
    clipped = np.minimum(similarity.data[kept], MAX_NORMALISED)
    values = np.maximum(clipped - TEXT_FLOOR, 0) * weight
    indptr = np.searchsorted(kept, similarity.indptr)  # entries kept before each row's first
    result = sparse.csr_matrix((values, similarity.indices[kept], indptr), shape=similarity.shape)
    result.eliminate_zeros()  # (none: x − floor > 0 times a weight)
    return result


def _prior_pairs(index: PaperIndex, prior: sparse.csr_matrix) -> sparse.csr_matrix:
    """For each paper, the sum over pairs of distinct categories it is listed in of the product of
    the reader's inferred weights: a paper in two of the fields a reader straddles ("graph
    networks for molecules": cs.LG and physics.chem-ph) beats one in either field alone, and a
    reader who seems to read one field gets nothing from it. ((Σw)² − Σw²) / 2, sparse."""
    listed = index.primary_t + index.cross_t
    once = prior @ listed
    pairs = sparse.csr_matrix((once.multiply(once) - prior.multiply(prior) @ listed) * 0.5)
    for first, second in ALIASES:  # two codes of one subject class are one field, not a pair
        a, b = index.category_ids.get(first), index.category_ids.get(second)
        if a is not None and b is not None:
            readers = prior[:, a].multiply(prior[:, b])
            if readers.nnz:
                pairs = pairs - sparse.csr_matrix(readers @ listed[a].multiply(listed[b]))
    pairs.data[pairs.data < 1e-6] = 0  # rounding of a single category's w² − w²
    pairs.eliminate_zeros()
    return pairs


def _sparse_parts(
    index: PaperIndex, m: ProfileMatrices, rows: slice
) -> Iterator[tuple[Signal, sparse.csr_matrix]]:
    """The sparse signals' evidence for a slice of readers (readers × papers), one at a time."""
    w, cap = WEIGHTS, CAPS
    categories, keywords = _sliced(m.categories, rows), _sliced(m.keywords, rows)

    def capped(matrix: sparse.spmatrix, name: str) -> sparse.csr_matrix:
        return _capped(matrix, cap[name], w[name])

    yield Signal.CATEGORY, capped(product(categories, index.primary_t), "category_primary")
    yield Signal.CATEGORY, capped(product(categories, index.cross_t), "category_cross")
    prior = _sliced(m.prior, rows)
    if prior.nnz:
        # primary and cross-lists together count at most one full primary match
        ratio = w["prior_cross"] / w["prior_primary"]
        both = product(prior, index.primary_t) + product(prior, index.cross_t) * ratio
        yield Signal.PRIOR, _capped(both, cap["prior"], w["prior_primary"])
        yield Signal.PRIOR, _capped(_prior_pairs(index, prior), cap["prior_pair"], w["prior_pair"])
    yield Signal.TOPIC, capped(product(_sliced(m.topics, rows), index.hits_t), "topic")
    yield Signal.KEYWORD, capped(product(keywords, index.in_title_t), "keyword_title")
    yield Signal.KEYWORD, capped(product(keywords, index.in_abstract_t), "keyword_abstract")
    yield Signal.AUTHOR, capped(product(_sliced(m.follows, rows), index.by_author_t), "author")
    yield Signal.INSTITUTION, _sliced(m.institutions, rows)
    yield Signal.TEXT, _similar(_sliced(m.text, rows), index.bm25_t, w["text"])


def _sliced(matrix: sparse.csr_matrix, rows: slice) -> sparse.csr_matrix:
    """The rows of a readers' matrix; the matrix itself when that is all of them (a chunk is
    scored whole: no copy)."""
    if rows.indices(matrix.shape[0]) == (0, matrix.shape[0], 1):
        return matrix
    return matrix[rows]


def _active(vectors: np.ndarray) -> np.ndarray:
    """The rows that are not all zero (a reader without texts gets no dense evidence)."""
    return np.flatnonzero(vectors.any(axis=1))


def _above(cosine: np.ndarray, floor: float, weight: float) -> np.ndarray:
    """weight × max(cosine − floor, 0), in place."""
    cosine -= floor
    np.maximum(cosine, 0, out=cosine)
    cosine *= weight
    return cosine


def _dense_parts(
    index: PaperIndex, m: ProfileMatrices, rows: slice
) -> Iterator[tuple[Signal, np.ndarray, np.ndarray]]:
    """The dense signals' evidence for a slice of readers, one array at a time: each signal's
    readers that have any (positions in the slice) and their rows × papers evidence."""
    if m.embeddings is not None and index.embeddings is not None:
        vectors = m.embeddings[rows]
        active = _active(vectors)
        cosine = vectors[active] @ index.embeddings.T
        yield Signal.EMBEDDING, active, _above(cosine, EMBEDDING_FLOOR, WEIGHTS["embedding"])
    if m.semantic is not None and index.semantic is not None:
        vectors = m.semantic[rows]
        active = _active(vectors)
        cosine = vectors[active] @ index.semantic.T
        yield Signal.SEMANTIC, active, _above(cosine, SEMANTIC_FLOOR, WEIGHTS["semantic"])
    learned = _learned_in(m, rows)
    for signal, similarity, weight in (
        (Signal.FEEDBACK_MORE, m.more, WEIGHTS["feedback_more"]),
        (Signal.FEEDBACK_LESS, m.less, -WEIGHTS["feedback_less"]),
    ):
        assign = _sliced(similarity.assign, rows)
        active = np.flatnonzero(np.diff(assign.indptr))
        if signal == Signal.FEEDBACK_MORE and learned is not None:
            active = np.setdiff1d(active, learned[0])  # their model replaces Rocchio
        if len(active):
            only = TextSimilarity(assign[active], similarity.per_text)
            dense = only.dense(slice(None), abs(weight))
            if dense is not None:
                yield signal, active, dense if weight > 0 else -1 * dense
    if learned is not None:
        yield Signal.FEEDBACK_MORE, learned[0], learned[1] * WEIGHTS["feedback_more"]


def _learned_in(m: ProfileMatrices, rows: slice) -> tuple[np.ndarray, np.ndarray] | None:
    """The readers of the slice with a learned model (positions in the slice), their evidence."""
    if m.learned is None:
        return None
    start, stop, _ = rows.indices(len(m.ids))
    inside = (m.learned.readers >= start) & (m.learned.readers < stop)
    if not inside.any():
        return None
    return m.learned.readers[inside] - start, m.learned.evidence[inside]


def _excluded(index: PaperIndex, m: ProfileMatrices, rows: slice) -> sparse.csr_matrix:
    """(reader, paper) cells where a keyword the reader excluded appears, in the title or the
    abstract (stored, whatever their value): no evidence there."""
    title, abstract = index.in_title_t, index.in_abstract_t
    cached = index.__dict__.get("_phrases_anywhere_t")
    if cached is None or cached[0] is not title or cached[1] is not abstract:
        cached = index.__dict__["_phrases_anywhere_t"] = (title, abstract, title + abstract)
    return product(_sliced(m.excluded, rows), cached[2])


def _damping(index: PaperIndex) -> np.ndarray:
    return np.where(index.is_replacement, REPLACEMENT_FACTOR, 1).astype(np.float32)


def _chunk_scores(index: PaperIndex, m: ProfileMatrices, rows: slice) -> Scores:
    """Relevance of a slice of readers: the sparse signals summed, then dense math."""
    total, parts = _chunk_sum(index, m, rows)
    return Scores(
        m.ids[rows], total.relevance((len(parts.wants_updates), len(index.papers))), parts
    )


def _chunk_evidence(
    index: PaperIndex, m: ProfileMatrices, rows: slice
) -> tuple[np.ndarray, _Parts]:
    """A slice of readers' evidence (readers × papers, float32), and its parts signal by signal."""
    total, parts = _chunk_sum(index, m, rows)
    return total.evidence((len(parts.wants_updates), len(index.papers))), parts


def _chunk_sum(index: PaperIndex, m: ProfileMatrices, rows: slice) -> tuple[ChunkSum, _Parts]:
    """A slice of readers' evidence as the parts it is summed from (`evidence.ChunkSum`): the
    sparse parts, then the dense ones, then the prior where nothing else scored, excluded
    keywords' cells cleared, replacements damped for the readers who do not want updates."""
    shape = (len(m.ids[rows]), len(index.papers))
    sparse_parts = [(signal, part.tocsr()) for signal, part in _sparse_parts(index, m, rows)]
    dense_parts = list(_dense_parts(index, m, rows))
    prior_parts = [p.tocoo() for g, p in sparse_parts if g == Signal.PRIOR]
    prior = coo_sum(prior_parts, shape).tocsr() if prior_parts else None  # duplicates summed
    hit = _excluded(index, m, rows)
    wants_updates = m.wants_updates[rows]
    damping = _damping(index)
    total = ChunkSum.of(
        [p for g, p in sparse_parts if g != Signal.PRIOR],
        [(active, part) for _g, active, part in dense_parts],
        prior,
        hit,
        wants_updates,
        damping if index.is_replacement.any() else None,
    )
    return total, _Parts(sparse_parts, dense_parts, hit, wants_updates, damping)


def _row(matrix: sparse.csr_matrix, position: int) -> tuple[np.ndarray, np.ndarray]:
    start, end = matrix.indptr[position], matrix.indptr[position + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def _shares(parts: _Parts, position: int, papers: int) -> Shares:
    """One reader's evidence signal by signal, as `_chunk_scores` adds it, in relevance points."""
    evidence = np.zeros((len(Signal), papers), dtype=np.float64)
    for signal, part in parts.by_signal:
        columns, values = _row(part, position)
        np.add.at(evidence[signal], columns, values)
    for signal, active, dense in parts.dense:
        at = int(np.searchsorted(active, position))
        if at < len(active) and active[at] == position:
            evidence[signal] += dense[at]
    others = evidence.sum(axis=0) - evidence[Signal.PRIOR]
    alone = others <= 0
    evidence[Signal.PRIOR, alone] = np.minimum(evidence[Signal.PRIOR, alone], PRIOR_ALONE)
    evidence[:, _row(parts.excluded, position)[0]] = 0
    if not parts.wants_updates[position]:
        evidence *= parts.damping
    total = evidence.sum(axis=0)
    relevance = -100 * np.expm1(-np.maximum(total, 0))
    scale = np.divide(relevance, total, out=np.zeros_like(total), where=total > 0)
    return Shares(evidence * scale)


def _group_scores(
    index: PaperIndex, group: list[ProfileRow], parents: dict[str, str], top: int = 0
) -> Scores:
    """One chunk of readers, their profiles made into matrices here: a reader's rows depend on
    that reader alone, and one chunk's profiles (Python) are read while another chunk's arrays
    are computed (numpy and scipy, without the interpreter lock)."""
    matrices = ProfileMatrices.build(index, group, parents)
    scores = _chunk_scores(index, matrices, slice(0, len(group)))
    if top:
        scores.top = top_papers(scores.relevance, min(top, scores.relevance.shape[1]))
    return scores


def scores_compute(
    papers: list[PaperRow],
    profiles: list[ProfileRow],
    *,
    parents: dict[str, str] | None = None,
    chunk: int = 2000,
    index: PaperIndex | None = None,
    workers: int | None = None,
    top: int = 0,
) -> Iterator[Scores]:
    """Score every profile against every paper, `chunk` profiles at a time, in order; with
    `top`, each chunk also holds each reader's `top` best papers (`Scores.top`).

    Chunks are computed `workers` at a time (default: the machine's cores, at most 4), each
    from its own readers' matrices: the sparse products and array maths release the interpreter
    lock, and at most `workers` chunks are held in memory beyond the one being consumed.
    Meanwhile BLAS runs one thread per call: the chunks are the parallelism (BLAS's own threads
    on top of them would only contend for the same cores).
    """
    index = index or PaperIndex(papers, profiles)
    parents = parents or {}
    groups = [profiles[start : start + chunk] for start in range(0, len(profiles), chunk)]
    workers = workers or min(4, os.cpu_count() or 1)
    if workers == 1 or len(groups) == 1:
        for group in groups:
            yield _group_scores(index, group, parents, top)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool, threadpool_limits(1, user_api="blas"):
        pending: deque[Future[Scores]] = deque()
        for group in groups:
            pending.append(pool.submit(_group_scores, index, group, parents, top))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
