"""Every reader's profile as sparse rows over the day's vocabularies, built once per run.

Topics (with their sub-topics), keywords and excluded keywords, followed authors, categories
and institutions become binary readers × vocabulary rows; free-text interests and seed papers
one mean text vector per reader; feedback texts a similarity to each of the day's papers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np
from scipy import sparse

from digests.scoring.arrays import binary_rows, unique_sorted
from digests.scoring.bm25 import BM25_FEATURES, MAX_NORMALISED, bm25_queries
from digests.scoring.learned import LearnedScores, learned_scores
from digests.scoring.paper_index import Columns, PaperIndex
from digests.scoring.rows import ProfileRow
from digests.scoring.semantic import semantic_embed
from digests.scoring.signals import PRIOR_WHEN_NAMED, TEXT_FLOOR, WEIGHTS

__all__ = ["ProfileMatrices", "TextSimilarity", "expand_topics"]


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


UNSEEN = -3  # a value not looked up yet (`Columns.codes` has no code for it)


def _binary_matrix(
    values: Sequence[Sequence[str]], columns: Columns, width: int
) -> sparse.csr_matrix:
    """A binary readers × vocabulary matrix: each reader's values, each value some columns
    (`Columns`; unknown: none), a column once however many values give it. The readers' values
    are looked up together by their codes, not reader by reader; only values of several
    columns, or not seen before, one by one."""
    n, width = len(values), max(width, 1)
    counts = np.fromiter(map(len, values), dtype=np.int64, count=n)
    flat = list(chain.from_iterable(values))
    codes = np.fromiter(
        map(columns.codes.get, flat, repeat(UNSEEN)), dtype=np.int64, count=len(flat)
    )
    owners = np.repeat(np.arange(n, dtype=np.int64), counts)
    single = codes >= 0
    cells = [owners[single] * width + codes[single]]
    rest = np.flatnonzero(codes < Columns.NONE)
    if len(rest):
        found = [columns[flat[position]] for position in rest.tolist()]
        sizes = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
        their = np.fromiter(chain.from_iterable(found), dtype=np.int64, count=int(sizes.sum()))
        cells.append(np.repeat(owners[rest] * width, sizes) + their)
    return binary_rows(unique_sorted(np.concatenate(cells)), n, width)


def _topic_columns(index: PaperIndex, parents: dict[str, str]) -> Columns:
    """A followed topic → its columns and its sub-topics' (`expand_topics`, topic by topic),
    kept with the index for these parents: every chunk follows the same few topics."""
    cached = getattr(index, "_topic_columns", None)
    if cached is None or cached[0] != parents:
        frozen = dict(parents)
        cached = (frozen, Columns(lambda slug: expand_topics([slug], frozen), index.topic_ids))
        index._topic_columns = cached  # type: ignore[attr-defined]
    return cached[1]


def _weights_matrix(
    n: int, values: Iterable[tuple[int, dict[str, float]]], ids: dict[str, int]
) -> sparse.csr_matrix:
    """A weighted readers × vocabulary matrix from (row, weights) of the rows that have any
    (unknown values dropped; other rows zero)."""
    rows, columns, weights = [], [], []
    for row, weighted in values:
        for value, weight in weighted.items():
            if value in ids and weight > 0:
                rows.append(row)
                columns.append(ids[value])
                weights.append(min(float(weight), 1.0))
    return sparse.csr_matrix(
        (np.array(weights, dtype=np.float32), (rows, columns)), shape=(n, max(len(ids), 1))
    )


def _assignment(
    groups: list[list[str]], weights: np.ndarray | None = None
) -> tuple[sparse.csr_matrix, list[str]]:
    """Readers × distinct texts, each row's weights adding up to 1 (zero rows without texts).

    `weights`: each text's, the groups' texts in a row (default 1 each). Each distinct text is
    read once: seed and feedback papers recur across readers.
    """
    n = len(groups)
    counts = np.fromiter(map(len, groups), dtype=np.int64, count=n)
    texts = list(chain.from_iterable(groups))
    distinct = {text: column for column, text in enumerate(dict.fromkeys(texts))}
    columns = np.fromiter(map(distinct.__getitem__, texts), dtype=np.int64, count=len(texts))
    owners = np.repeat(np.arange(n, dtype=np.int64), counts)
    weights = np.ones(len(texts)) if weights is None else weights
    totals = np.bincount(owners, weights=weights, minlength=n)
    assign = sparse.csr_matrix(
        ((weights / totals[owners]).astype(np.float32), (owners, columns)),
        shape=(n, max(len(distinct), 1)),
    )
    return assign, list(distinct)


Groups = tuple[list[list[str]], np.ndarray]  # each reader's texts, and the texts' weights


def _text_groups(profiles: list[ProfileRow]) -> Groups:
    """Each reader's texts (seed papers, then the free text) and their weights: each seed its
    `seed_weights` (1 by default), the free text as much as the seeds together, at least 1."""
    groups = [
        [*x.seed_texts, x.interests] if x.interests.strip() else list(x.seed_texts)
        for x in profiles
    ]
    n = len(groups)
    seeds = np.fromiter((len(x.seed_texts) for x in profiles), dtype=np.int64, count=n)
    sizes = np.fromiter(map(len, groups), dtype=np.int64, count=n)
    starts = np.cumsum(sizes) - sizes
    weights = np.ones(int(sizes.sum()))
    seed_total = seeds.astype(np.float64)
    for row in (i for i, x in enumerate(profiles) if x.seed_weights):  # library seeds
        weights[starts[row] : starts[row] + seeds[row]] = profiles[row].seed_weights
        seed_total[row] = sum(profiles[row].seed_weights)
    wrote = np.flatnonzero(sizes > seeds)
    weights[starts[wrote] + seeds[wrote]] = np.maximum(seed_total[wrote], 1)
    return groups, weights


def _with_liked(profiles: list[ProfileRow], texts: Groups) -> Groups:
    """`_text_groups` and, after each reader's texts, the papers they asked more of (weight 1)."""
    groups, weights = texts
    liked = [row for row, x in enumerate(profiles) if x.more_texts]
    if not liked:
        return groups, weights
    groups = list(groups)
    for row in liked:
        groups[row] = groups[row] + profiles[row].more_texts
    sizes = np.fromiter(map(len, texts[0]), dtype=np.int64, count=len(groups))
    ends = np.cumsum(sizes)
    more = np.array([len(profiles[row].more_texts) for row in liked], dtype=np.int64)
    return groups, np.insert(weights, np.repeat(ends[liked], more), 1.0)


QUERY_ROWS = 50_000  # texts whose query rows an index keeps (a few hundred bytes each)


def _query_rows(texts: list[str], index: PaperIndex) -> sparse.csr_matrix:
    """`bm25_queries(texts, index.idf)`, each text's row computed once per index (a row depends
    on its text alone; its terms kept in their order, so every product sums alike)."""
    if not texts:
        return sparse.csr_matrix((0, BM25_FEATURES), dtype=np.float32)
    if index.queries is not None:  # the readers' texts' rows, computed with the index
        bank, absent = index.reader_rows, len(index.reader_rows)
        positions = [bank.get(t, absent) for t in texts]
        if max(positions) < absent:
            return index.queries[positions]
    known = index.query_rows
    found = {t: entry for t in texts if (entry := known.get(t)) is not None}
    missing = [t for t in texts if t not in found]
    if missing:
        queries = bm25_queries(missing, index.idf).tocsr()
        for row, text in enumerate(missing):
            start, end = queries.indptr[row], queries.indptr[row + 1]
            found[text] = (queries.indices[start:end], queries.data[start:end])
            if len(known) < QUERY_ROWS:  # bounded: beyond, texts are computed each time
                known[text] = found[text]
    rows = [found[t] for t in texts]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(indices) for indices, _data in rows], out=indptr[1:])
    return sparse.csr_matrix(
        (
            np.concatenate([data for _indices, data in rows]),
            np.concatenate([indices for indices, _data in rows]),
            indptr,
        ),
        shape=(len(rows), BM25_FEATURES),
    )


def _queries(texts: Groups, index: PaperIndex) -> sparse.csr_matrix:
    """One BM25 query row per reader: the weighted mean of their texts' normalised queries."""
    assign, distinct = _assignment(*texts)
    if not distinct:
        return sparse.csr_matrix((len(texts[0]), BM25_FEATURES), dtype=np.float32)
    return (assign @ _query_rows(distinct, index)).tocsr().astype(np.float32)


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
        assign, distinct = _assignment(groups)
        if not distinct:
            return cls(assign, np.zeros((1, len(index.papers)), dtype=np.float32))
        return cls(assign, _similarity_rows(distinct, index))

    def dense(self, rows: slice, weight: float) -> np.ndarray | None:
        """Weighted similarity above the floor for a slice of readers (None if none has texts)."""
        assign = self.assign[rows]
        if assign.nnz == 0:
            return None
        similarity = assign @ self.per_text
        return (np.maximum(similarity - TEXT_FLOOR, 0) * weight).astype(np.float32)


SIMILARITY_ROWS = 4_000  # feedback texts whose rows an index keeps (8 KiB at 2,000 papers)


def _similarity_rows(texts: list[str], index: PaperIndex) -> np.ndarray:
    """Texts × papers: each text's normalised BM25 with the day's papers, computed once per
    index (a row depends on its text alone; liked papers recur across chunks)."""
    known: dict[str, np.ndarray] = index.__dict__.setdefault("_similarity_rows", {})
    found = {t: row for t in texts if (row := known.get(t)) is not None}
    missing = [t for t in texts if t not in found]
    if missing:
        computed = (_query_rows(missing, index) @ index.bm25_t).toarray()
        rows = np.minimum(computed, MAX_NORMALISED).astype(np.float32)
        found.update(zip(missing, rows, strict=True))
        if len(known) < SIMILARITY_ROWS:  # bounded: beyond, texts are computed each time
            known.update(zip(missing, rows, strict=True))
    return np.vstack([found[t] for t in texts])


def _institution_papers(index: PaperIndex) -> dict[str, np.ndarray]:
    """A followed institution → its papers (`PaperIndex.institution_papers`) as an array, kept
    with the index: readers follow the same institutions chunk after chunk."""
    cached = getattr(index, "_institution_arrays", None)
    if cached is None:
        cached = index._institution_arrays = {}  # type: ignore[attr-defined]
    return cached


def _institutions(profiles: list[ProfileRow], index: PaperIndex) -> sparse.csr_matrix:
    """Readers × papers: the institution weight for each followed institution on the paper
    (two of a reader's institutions on one paper: twice)."""
    known = _institution_papers(index)
    names = [x.institutions for x in profiles]
    papers = []
    for name in chain.from_iterable(names):
        found = known.get(name)
        if found is None:
            found = known[name] = np.fromiter(
                sorted(index.institution_papers(name)), dtype=np.int64
            )
        papers.append(found)
    counts = np.fromiter(map(len, names), dtype=np.int64, count=len(names))
    sizes = np.fromiter(map(len, papers), dtype=np.int64, count=len(papers))
    rows = np.repeat(np.repeat(np.arange(len(names), dtype=np.int64), counts), sizes)
    columns = np.concatenate(papers) if papers else np.zeros(0, dtype=np.int64)
    weights = np.full(len(rows), WEIGHTS["institution"], dtype=np.float32)
    return sparse.csr_matrix((weights, (rows, columns)), shape=(len(names), len(index.papers)))


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


def _semantic(texts: Groups, index: PaperIndex) -> np.ndarray | None:
    """Each reader's texts (free text, seeds, liked papers) embedded, their weighted mean."""
    if index.semantic is None:
        return None
    assign, distinct = _assignment(*texts)
    vectors = _embedded(distinct, index) if distinct else None
    if vectors is None:
        return None
    mean = np.asarray(assign @ vectors, dtype=np.float32)
    norms = np.linalg.norm(mean, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return mean / norms


def _embedded(texts: list[str], index: PaperIndex) -> np.ndarray | None:
    """`semantic_embed(texts)`: the rows the index's prefetch embedded (every reader's text)."""
    if index.readers_embedded is not None:
        rows, embedded = index.reader_rows, index.reader_texts
        positions = [rows.get(t, embedded) for t in texts]
        if max(positions) < embedded:
            vectors = index.readers_embedded.result()
            if vectors is not None:
                return vectors[positions]
    return semantic_embed(texts, index.semantic_model)


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
    learned: LearnedScores | None  # the readers with a model of their own (`learned`)

    @classmethod
    def build(
        cls, index: PaperIndex, profiles: list[ProfileRow], parents: dict[str, str]
    ) -> ProfileMatrices:
        n = len(profiles)
        texts = _text_groups(profiles)
        return cls(
            ids=[x.id for x in profiles],
            topics=_binary_matrix(
                [x.topics for x in profiles], _topic_columns(index, parents), len(index.topic_ids)
            ),
            keywords=_binary_matrix(
                [x.keywords for x in profiles], index.columns_of_keyword, len(index.phrase_ids)
            ),
            excluded=_binary_matrix(
                [x.exclude_keywords for x in profiles],
                index.columns_of_keyword,
                len(index.phrase_ids),
            ),
            follows=_binary_matrix(
                [x.authors for x in profiles], index.columns_of_author, len(index.author_ids)
            ),
            categories=_binary_matrix(
                [x.categories for x in profiles],
                index.columns_of_category,
                len(index.category_ids),
            ),
            prior=_weights_matrix(
                n,
                ((row, _prior(x)) for row, x in enumerate(profiles) if x.inferred_categories),
                index.category_ids,
            ),
            institutions=_institutions(profiles, index),
            text=_queries(texts, index),
            more=TextSimilarity.build([x.more_texts for x in profiles], index),
            less=TextSimilarity.build([x.less_texts for x in profiles], index),
            wants_updates=np.fromiter((x.include_updates for x in profiles), dtype=bool, count=n),
            embeddings=_profile_embeddings(profiles, index),
            semantic=_semantic(_with_liked(profiles, texts), index),
            learned=learned_scores(profiles, index),
        )
