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
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from digests.scoring.paper_index import PaperIndex
from digests.scoring.profile_matrices import ProfileMatrices
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.signals import (
    CAPS,
    EMBEDDING_FLOOR,
    REPLACEMENT_FACTOR,
    TEXT_FLOOR,
    WEIGHTS,
)

__all__ = ["Scores", "scores_compute"]


@dataclass
class Scores:
    """One chunk of readers: relevance 0–100 (readers × papers, uint8)."""

    profile_ids: list[int]
    relevance: np.ndarray


def _capped(product: sparse.spmatrix, cap: float, weight: float) -> sparse.csr_matrix:
    product = product.tocsr()
    np.minimum(product.data, cap, out=product.data)
    product.data *= weight
    return product


def _similar(
    rows: sparse.csr_matrix, vectors_t: sparse.csr_matrix, weight: float
) -> sparse.csr_matrix:
    similarity = (rows @ vectors_t).tocsr()
    similarity.data = np.maximum(similarity.data - TEXT_FLOOR, 0) * weight
    similarity.eliminate_zeros()  # below the floor is noise: no need to carry it further
    return similarity


def _sparse_parts(
    index: PaperIndex, m: ProfileMatrices, rows: slice
) -> Iterator[sparse.csr_matrix]:
    """The sparse signals' evidence for a slice of readers (readers × papers), one at a time."""
    w, cap = WEIGHTS, CAPS
    categories, keywords = m.categories[rows], m.keywords[rows]

    def capped(product: sparse.spmatrix, name: str) -> sparse.csr_matrix:
        return _capped(product, cap[name], w[name])

    yield capped(categories @ index.primary_t, "category_primary")
    yield capped(categories @ index.cross_t, "category_cross")
    yield capped(m.topics[rows] @ index.hits_t, "topic")
    yield capped(keywords @ index.in_title_t, "keyword_title")
    yield capped(keywords @ index.in_abstract_t, "keyword_abstract")
    yield capped(m.follows[rows] @ index.by_author_t, "author")
    yield m.institutions[rows]
    yield _similar(m.text[rows], index.vectors_t, w["text"])


def _dense_parts(index: PaperIndex, m: ProfileMatrices, rows: slice) -> Iterator[np.ndarray]:
    """The dense signals' evidence for a slice of readers, one array at a time."""
    if m.embeddings is not None and index.embeddings is not None:
        cosine = m.embeddings[rows] @ index.embeddings.T
        yield WEIGHTS["embedding"] * np.maximum(cosine - EMBEDDING_FLOOR, 0)
    more = m.more.dense(rows, WEIGHTS["feedback_more"])
    if more is not None:
        yield more
    less = m.less.dense(rows, WEIGHTS["feedback_less"])
    if less is not None:
        yield -1 * less


def _excluded(index: PaperIndex, m: ProfileMatrices, rows: slice) -> sparse.coo_matrix:
    """(reader, paper) pairs where a keyword the reader excluded appears: no evidence there."""
    excluded = m.excluded[rows]
    return ((excluded @ index.in_title_t) + (excluded @ index.in_abstract_t)).tocoo()


def _damping(index: PaperIndex) -> np.ndarray:
    return np.where(index.is_replacement, REPLACEMENT_FACTOR, 1).astype(np.float32)


def _chunk_scores(index: PaperIndex, m: ProfileMatrices, rows: slice) -> Scores:
    """Relevance of a slice of readers: the sparse signals summed, then dense math."""
    ids = m.ids[rows]
    parts = [part.tocoo() for part in _sparse_parts(index, m, rows)]
    # One sparse sum (duplicates add up) turned dense once.
    evidence = sparse.coo_matrix(
        (
            np.concatenate([p.data for p in parts]),
            (np.concatenate([p.row for p in parts]), np.concatenate([p.col for p in parts])),
        ),
        shape=(len(ids), len(index.papers)),
    ).toarray()
    for part in _dense_parts(index, m, rows):
        evidence += part
    hit = _excluded(index, m, rows)
    evidence[hit.row, hit.col] = 0
    np.multiply(evidence, _damping(index), out=evidence, where=~m.wants_updates[rows, None])
    np.maximum(evidence, 0, out=evidence)
    np.expm1(-evidence, out=evidence)
    evidence *= -100
    np.rint(evidence, out=evidence)
    return Scores(ids, evidence.astype(np.uint8))


def scores_compute(
    papers: list[PaperRow],
    profiles: list[ProfileRow],
    *,
    parents: dict[str, str] | None = None,
    chunk: int = 2000,
    index: PaperIndex | None = None,
    workers: int | None = None,
) -> Iterator[Scores]:
    """Score every profile against every paper, `chunk` profiles at a time, in order.

    Chunks are computed `workers` at a time (default: the machine's cores, at most 4): the
    sparse products and array maths release the interpreter lock, and at most `workers`
    chunks are held in memory beyond the one being consumed.
    """
    index = index or PaperIndex(papers, profiles)
    matrices = ProfileMatrices.build(index, profiles, parents or {})
    slices = [slice(start, start + chunk) for start in range(0, len(profiles), chunk)]
    workers = workers or min(4, os.cpu_count() or 1)
    if workers == 1 or len(slices) == 1:
        for rows in slices:
            yield _chunk_scores(index, matrices, rows)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[Scores]] = deque()
        for rows in slices:
            pending.append(pool.submit(_chunk_scores, index, matrices, rows))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
