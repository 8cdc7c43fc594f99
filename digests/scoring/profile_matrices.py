"""Every reader's profile as sparse rows over the day's vocabularies, built once per run.

Topics (with their sub-topics), keywords and excluded keywords, followed authors, categories
and institutions become binary readers × vocabulary rows; free-text interests and seed papers
one mean text vector per reader; feedback texts a similarity to each of the day's papers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse

from digests.scoring.bm25 import BM25_FEATURES, MAX_NORMALISED, bm25_queries
from digests.scoring.matching import author_keys_followed
from digests.scoring.paper_index import PaperIndex, keyword_columns
from digests.scoring.rows import ProfileRow
from digests.scoring.semantic import semantic_embed
from digests.scoring.signals import PRIOR_WHEN_NAMED, TEXT_FLOOR, WEIGHTS

__all__ = ["ProfileMatrices", "TextSimilarity", "expand_topics"]


@lru_cache(maxsize=100_000)
def _followed_keys(name: str) -> frozenset[str]:
    return frozenset(author_keys_followed(name))


def expand_topics(slugs: Iterable[str], parents: dict[str, str]) -> set[str]:
    """A followed topic also takes its sub-topics' hits (following "llm" covers post-training)."""
    followed = set(slugs)

    def covered(slug: str) -> bool:
        while slug:
            if slug in followed:
                return True
            slug = parents.get(slug, "")
        return False

    return followed | {child for child in parents if covered(child)}


def _rows_matrix(values: list[Iterable[str]], ids: dict[str, int], n: int) -> sparse.csr_matrix:
    """A binary readers × vocabulary matrix from each reader's values (unknown ones dropped)."""
    indptr = [0]
    indices: list[int] = []
    for row_values in values:
        columns = {ids[v] for v in row_values if v in ids}
        indices.extend(sorted(columns))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix(
        (data, np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
        shape=(n, max(len(ids), 1)),
    )


def _weights_matrix(values: list[dict[str, float]], ids: dict[str, int]) -> sparse.csr_matrix:
    """A weighted readers × vocabulary matrix (unknown values dropped; empty dict: zero row)."""
    rows, columns, weights = [], [], []
    for row, weighted in enumerate(values):
        for value, weight in weighted.items():
            if value in ids and weight > 0:
                rows.append(row)
                columns.append(ids[value])
                weights.append(min(float(weight), 1.0))
    return sparse.csr_matrix(
        (np.array(weights, dtype=np.float32), (rows, columns)),
        shape=(len(values), max(len(ids), 1)),
    )


def _assignment(
    groups: list[list[tuple[str, float]]],
) -> tuple[sparse.csr_matrix, list[str]]:
    """Readers × distinct texts, each row's weights adding up to 1 (zero rows without texts).

    Each distinct text is read once: seed and feedback papers recur across readers.
    """
    distinct: dict[str, int] = {}
    owners, columns, weights = [], [], []
    for owner, group in enumerate(groups):
        total = sum(weight for _text, weight in group)
        for text, weight in group:
            owners.append(owner)
            columns.append(distinct.setdefault(text, len(distinct)))
            weights.append(weight / total)
    assign = sparse.csr_matrix(
        (np.array(weights, dtype=np.float32), (owners, columns)),
        shape=(len(groups), max(len(distinct), 1)),
    )
    return assign, list(distinct)


def _queries(groups: list[list[tuple[str, float]]], index: PaperIndex) -> sparse.csr_matrix:
    """One BM25 query row per reader: the weighted mean of their texts' normalised queries."""
    assign, distinct = _assignment(groups)
    if not distinct:
        return sparse.csr_matrix((len(groups), BM25_FEATURES), dtype=np.float32)
    return (assign @ bm25_queries(distinct, index.idf)).tocsr().astype(np.float32)


@dataclass
class TextSimilarity:
    """Normalised BM25 of each reader's texts with each paper, one paper pass per text.

    Feedback papers recur across readers, so each distinct text is compared with the day's
    papers once; a reader's similarity is the mean of their texts' rows.
    """

    assign: sparse.csr_matrix  # readers × distinct texts, rows adding up to 1
    per_text: np.ndarray  # distinct texts × papers (normalised BM25)

    @classmethod
    def build(cls, groups: list[list[str]], index: PaperIndex) -> TextSimilarity:
        assign, distinct = _assignment([[(t, 1.0) for t in group] for group in groups])
        if not distinct:
            return cls(assign, np.zeros((1, len(index.papers)), dtype=np.float32))
        per_text = (bm25_queries(distinct, index.idf) @ index.bm25_t).toarray()
        return cls(assign, np.minimum(per_text, MAX_NORMALISED).astype(np.float32))

    def dense(self, rows: slice, weight: float) -> np.ndarray | None:
        """Weighted similarity above the floor for a slice of readers (None if none has texts)."""
        assign = self.assign[rows]
        if assign.nnz == 0:
            return None
        similarity = assign @ self.per_text
        return (np.maximum(similarity - TEXT_FLOOR, 0) * weight).astype(np.float32)


def _prior(x: ProfileRow) -> dict[str, float]:
    """The inferred categories' weights, less for a reader who names categories of their own."""
    scale = PRIOR_WHEN_NAMED if x.categories else 1.0
    return {c: w * scale for c, w in x.inferred_categories.items()}


def _profile_embeddings(profiles: list[ProfileRow], index: PaperIndex) -> np.ndarray | None:
    if index.embeddings is None or not any(x.embedding is not None for x in profiles):
        return None
    matrix = np.zeros((len(profiles), index.embeddings.shape[1]), dtype=np.float32)
    for row, x in enumerate(profiles):
        if x.embedding is not None and x.embedding.shape == (index.embeddings.shape[1],):
            norm = float(np.linalg.norm(x.embedding))
            if norm:
                matrix[row] = x.embedding / norm
    return matrix


def _texts(x: ProfileRow) -> list[tuple[str, float]]:
    """The reader's texts matched as BM25 queries: the free text weighs as much as the seeds."""
    texts = [(seed, 1.0) for seed in x.seed_texts]
    if x.interests.strip():
        texts.append((x.interests, max(1.0, float(len(texts)))))
    return texts


def _semantic(profiles: list[ProfileRow], index: PaperIndex) -> np.ndarray | None:
    """Each reader's texts (free text, seeds, liked papers) embedded, their weighted mean."""
    if index.semantic is None:
        return None
    groups = [_texts(x) + [(t, 1.0) for t in x.more_texts] for x in profiles]
    assign, distinct = _assignment(groups)
    vectors = semantic_embed(distinct, index.semantic_model) if distinct else None
    if vectors is None:
        return None
    mean = np.asarray(assign @ vectors, dtype=np.float32)
    norms = np.linalg.norm(mean, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return mean / norms


@dataclass
class ProfileMatrices:
    """Every reader's profile as sparse rows over the day's vocabularies, built once."""

    ids: list[int]
    topics: sparse.csr_matrix
    keywords: sparse.csr_matrix
    excluded: sparse.csr_matrix
    follows: sparse.csr_matrix
    categories: sparse.csr_matrix
    prior: sparse.csr_matrix  # readers × categories: the inferred weights (0–1)
    institutions: sparse.csr_matrix
    text: sparse.csr_matrix
    more: TextSimilarity
    less: TextSimilarity
    wants_updates: np.ndarray
    embeddings: np.ndarray | None  # readers × dimension, zero rows for readers without one
    semantic: np.ndarray | None  # readers × the in-process model's dimension (zero: no text)

    @classmethod
    def build(
        cls, index: PaperIndex, profiles: list[ProfileRow], parents: dict[str, str]
    ) -> ProfileMatrices:
        n = len(profiles)
        expanded: dict[tuple[str, ...], set[str]] = {}

        def topics_of(x: ProfileRow) -> set[str]:
            key = tuple(sorted(x.topics))
            if key not in expanded:
                expanded[key] = expand_topics(key, parents)
            return expanded[key]

        institution_rows, institution_cols = [], []
        for row, x in enumerate(profiles):
            for name in x.institutions:
                for paper in index.institution_papers(name):
                    institution_rows.append(row)
                    institution_cols.append(paper)
        return cls(
            ids=[x.id for x in profiles],
            topics=_rows_matrix([topics_of(x) for x in profiles], index.topic_ids, n),
            keywords=_rows_matrix(
                [{c for k in x.keywords for c in keyword_columns(k)} for x in profiles],
                index.phrase_ids,
                n,
            ),
            excluded=_rows_matrix(
                [{c for k in x.exclude_keywords for c in keyword_columns(k)} for x in profiles],
                index.phrase_ids,
                n,
            ),
            follows=_rows_matrix(
                [{key for a in x.authors for key in _followed_keys(a)} for x in profiles],
                index.author_ids,
                n,
            ),
            categories=_rows_matrix([x.categories for x in profiles], index.category_ids, n),
            prior=_weights_matrix([_prior(x) for x in profiles], index.category_ids),
            institutions=sparse.csr_matrix(
                (
                    np.full(len(institution_rows), WEIGHTS["institution"], dtype=np.float32),
                    (institution_rows, institution_cols),
                ),
                shape=(n, len(index.papers)),
            ),
            text=_queries([_texts(x) for x in profiles], index),
            more=TextSimilarity.build([x.more_texts for x in profiles], index),
            less=TextSimilarity.build([x.less_texts for x in profiles], index),
            wants_updates=np.array([x.include_updates for x in profiles], dtype=bool),
            embeddings=_profile_embeddings(profiles, index),
            semantic=_semantic(profiles, index),
        )
