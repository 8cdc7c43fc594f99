"""Step 3: relevance 0–100 of every paper for every reader, in one vectorised pass.

Pure functions over arrays: no database, no network, no LLM call. Each signal gives evidence
(topic hits, keywords in title and abstract, followed authors, institutions, categories,
similarity to free-text interests, seed papers and feedback); the evidence adds up and
relevance = 100 × (1 − e^(−evidence)). Nothing depends on the day's other papers, so a paper
and a profile get the same score on any day, and a minimum relevance of 60 always means the
same thing. Readers are scored in chunks, so memory stays bounded.
"""

from __future__ import annotations

import os
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from digests.scoring.matching import (
    author_keys_followed,
    author_keys_written,
    institution_tokens,
    phrase_variants,
    stems,
)

__all__ = [
    "WEIGHTS",
    "PaperIndex",
    "PaperRow",
    "ProfileRow",
    "Reason",
    "Scores",
    "scores_compute",
]

# Evidence per signal; relevance = 100 (1 - exp(-evidence)): 0.5 → 39, 1 → 63, 2 → 86.
WEIGHTS = {
    "author": 2.0,
    "keyword_title": 1.0,
    "keyword_abstract": 0.55,
    "topic": 1.1,
    "institution": 0.9,
    "category_primary": 0.18,
    "category_cross": 0.08,
    "text": 4.0,
    "embedding": 3.0,
    "feedback_more": 3.0,
    "feedback_less": 4.0,
}
TEXT_FLOOR = 0.05  # cosine similarity below this is noise
EMBEDDING_FLOOR = 0.3  # embedding cosines run higher: below this, unrelated
REPLACEMENT_FACTOR = 0.6  # replacements rank below new papers unless the reader wants updates
MAX_PHRASE = 6


class Reason:
    """What scored most, as a small code per (reader, paper)."""

    NONE, AUTHOR, KEYWORD, TOPIC, INSTITUTION, TEXT, FEEDBACK, CATEGORY = range(8)
    NAMES = ("", "author", "keyword", "topic", "institution", "interests", "feedback", "category")


@dataclass
class PaperRow:
    """A paper as the scorer reads it; categories start with the primary one."""

    id: int
    title: str
    abstract: str
    authors: list[str]
    affiliations: list[str]
    categories: list[str]
    announce_type: str = "new"
    topic_hits: dict[str, float] = field(default_factory=dict)  # slug → 0..100
    embedding: np.ndarray | None = None  # from LLM_EMBEDDING_MODEL, when configured


@dataclass
class ProfileRow:
    id: int
    topics: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    exclude_keywords: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    institutions: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    interests: str = ""
    seed_texts: list[str] = field(default_factory=list)
    more_texts: list[str] = field(default_factory=list)
    less_texts: list[str] = field(default_factory=list)
    include_updates: bool = False
    embedding: np.ndarray | None = None  # mean of the seed and liked papers' embeddings


_VECTORIZER = HashingVectorizer(
    n_features=2**18,
    ngram_range=(1, 1),
    stop_words="english",
    alternate_sign=False,
    norm=None,
    dtype=np.float32,
)


def text_vectors(texts: list[str]) -> sparse.csr_matrix:
    """Sublinear term counts, L2-normalised: cosine is a plain dot product, day-independent."""
    counts = _VECTORIZER.transform(texts)
    counts.data = 1 + np.log(counts.data)
    return normalize(counts, norm="l2", copy=False).astype(np.float32)


def _phrases(
    words: list[str], lengths: dict[str, tuple[int, ...]], known: dict[str, int]
) -> set[int]:
    """The known phrases in `words`: runs of the lengths that phrases starting there have."""
    found = set()
    for i, word in enumerate(words):
        for n in lengths.get(word, ()):
            column = known.get(" ".join(words[i : i + n]))
            if column is not None:
                found.add(column)
    return found


class PaperIndex:
    """The day's papers, indexed once for every chunk of readers."""

    def __init__(self, papers: list[PaperRow], profiles: list[ProfileRow]) -> None:
        self.papers = papers
        n = len(papers)
        phrases = {
            variant
            for k in {k for p in profiles for k in (*p.keywords, *p.exclude_keywords)}
            for variant in _keyword_columns(k)
        }
        self.phrase_ids = {phrase: i for i, phrase in enumerate(sorted(phrases))}
        lengths: dict[str, set[int]] = defaultdict(set)
        for phrase in phrases:
            words = phrase.split()
            lengths[words[0]].add(min(len(words), MAX_PHRASE))
        starts = {word: tuple(sorted(ns)) for word, ns in lengths.items()}
        self.title_words = [stems(p.title) for p in papers]
        title_rows, abstract_rows = [], []
        for index, paper in enumerate(papers):
            for column in _phrases(self.title_words[index], starts, self.phrase_ids):
                title_rows.append((index, column))
            for column in _phrases(stems(paper.abstract), starts, self.phrase_ids):
                abstract_rows.append((index, column))
        self.in_title = _binary(title_rows, n, len(self.phrase_ids))
        self.in_abstract = _binary(abstract_rows, n, len(self.phrase_ids))

        self.author_ids: dict[str, int] = {}
        author_rows = []
        for index, paper in enumerate(papers):
            for name in paper.authors:
                for key in author_keys_written(name):
                    author_rows.append(
                        (index, self.author_ids.setdefault(key, len(self.author_ids)))
                    )
        self.by_author = _binary(author_rows, n, len(self.author_ids))

        self.affiliations = [[institution_tokens(a) for a in p.affiliations] for p in papers]
        postings: dict[str, set[int]] = defaultdict(set)
        for index, affiliations in enumerate(self.affiliations):
            for tokens in affiliations:
                for token in tokens:
                    postings[token].add(index)
        self.affiliation_postings = postings
        self._institutions: dict[str, set[int]] = {}

        self.category_ids: dict[str, int] = {}
        primary_rows, cross_rows = [], []
        for index, paper in enumerate(papers):
            for position, category in enumerate(paper.categories):
                column = self.category_ids.setdefault(category, len(self.category_ids))
                (primary_rows if position == 0 else cross_rows).append((index, column))
        self.primary = _binary(primary_rows, n, len(self.category_ids))
        self.cross = _binary(cross_rows, n, len(self.category_ids))

        self.topic_ids: dict[str, int] = {}
        topic_rows = []
        for index, paper in enumerate(papers):
            for slug, score in paper.topic_hits.items():
                column = self.topic_ids.setdefault(slug, len(self.topic_ids))
                topic_rows.append((index, column, score / 100.0))
        self.hits = _weighted(topic_rows, n, len(self.topic_ids))

        self.vectors = text_vectors([f"{p.title}\n{p.abstract}" for p in papers])
        self.embeddings = _unit_rows([p.embedding for p in papers])
        # Readers × vocabulary @ vocabulary × papers: transposed once, not once per chunk.
        for name in ("primary", "cross", "hits", "in_title", "in_abstract", "by_author", "vectors"):
            setattr(self, f"{name}_t", getattr(self, name).T.tocsr())
        self.is_replacement = np.array(
            [p.announce_type.startswith("replace") for p in papers], dtype=bool
        )

    def institution_papers(self, institution: str) -> set[int]:
        """Papers with one affiliation holding every distinctive word of `institution`."""
        known = self._institutions.get(institution)
        if known is None:
            known = self._institutions[institution] = self._institution_papers(institution)
        return known

    def _institution_papers(self, institution: str) -> set[int]:
        wanted = institution_tokens(institution)
        if not wanted:
            return set()
        candidates = set.intersection(*(self.affiliation_postings.get(t, set()) for t in wanted))
        return {i for i in candidates if any(wanted <= a for a in self.affiliations[i])}


def _unit_rows(vectors: list[np.ndarray | None]) -> np.ndarray | None:
    """Unit-length rows when every vector is there with one dimension, else None."""
    if not vectors or any(v is None for v in vectors):
        return None
    if len({v.shape for v in vectors}) != 1:
        return None
    matrix = np.vstack(vectors).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return matrix / norms


def _binary(rows: list[tuple[int, int]], n: int, m: int) -> sparse.csr_matrix:
    return _weighted([(r, c, 1.0) for r, c in set(rows)], n, m)


def _weighted(rows: list[tuple[int, int, float]], n: int, m: int) -> sparse.csr_matrix:
    if not rows:
        return sparse.csr_matrix((n, max(m, 1)), dtype=np.float32)
    r, c, v = zip(*rows, strict=True)
    return sparse.csr_matrix(
        (np.array(v, dtype=np.float32), (r, c)), shape=(n, max(m, 1)), dtype=np.float32
    )


@dataclass
class Scores:
    """One chunk of readers: relevance 0–100 (readers × papers, uint8)."""

    profile_ids: list[int]
    relevance: np.ndarray


@lru_cache(maxsize=100_000)
def _keyword_columns(keyword: str) -> frozenset[str]:
    return frozenset(phrase_variants(keyword))


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


def _centroids(groups: list[list[str]]) -> sparse.csr_matrix:
    """One L2-normalised mean text vector per reader (zero rows for readers without texts).

    Each distinct text is vectorised once: seed and feedback papers recur across readers.
    """
    distinct: dict[str, int] = {}
    owners, columns = [], []
    for owner, group in enumerate(groups):
        for text in group:
            owners.append(owner)
            columns.append(distinct.setdefault(text, len(distinct)))
    if not distinct:
        return sparse.csr_matrix((len(groups), _VECTORIZER.n_features), dtype=np.float32)
    assign = sparse.csr_matrix(
        (np.ones(len(owners), dtype=np.float32), (owners, columns)),
        shape=(len(groups), len(distinct)),
    )
    return normalize(assign @ text_vectors(list(distinct)), norm="l2").astype(np.float32)


@dataclass
class TextSimilarity:
    """Cosine of each reader's mean text vector with each paper, one paper pass per text.

    Feedback papers recur across readers, so each distinct text is compared with the day's
    papers once; a reader's similarity is then the sum of their texts' rows divided by the
    norm of their summed vector: the cosine with their mean, exactly.
    """

    assign: sparse.csr_matrix  # readers × distinct texts
    per_text: np.ndarray  # distinct texts × papers (dot products)
    norms: np.ndarray  # per reader: norm of the summed text vector (inf when none)

    @classmethod
    def build(cls, groups: list[list[str]], index: PaperIndex) -> TextSimilarity:
        distinct: dict[str, int] = {}
        owners, columns = [], []
        for owner, group in enumerate(groups):
            for text in group:
                owners.append(owner)
                columns.append(distinct.setdefault(text, len(distinct)))
        assign = sparse.csr_matrix(
            (np.ones(len(owners), dtype=np.float32), (owners, columns)),
            shape=(len(groups), max(len(distinct), 1)),
        )
        if not distinct:
            empty = np.zeros((1, len(index.papers)), dtype=np.float32)
            return cls(assign, empty, np.full(len(groups), np.inf, dtype=np.float32))
        vectors = text_vectors(list(distinct))
        summed = assign @ vectors
        norms = np.sqrt(np.asarray(summed.multiply(summed).sum(axis=1)).ravel())
        norms[norms == 0] = np.inf
        per_text = (vectors @ index.vectors_t).toarray().astype(np.float32)
        return cls(assign, per_text, norms.astype(np.float32))

    def dense(self, rows: slice, weight: float) -> np.ndarray | None:
        """Weighted similarity above the floor for a slice of readers (None if none has texts)."""
        assign = self.assign[rows]
        if assign.nnz == 0:
            return None
        similarity = (assign @ self.per_text) / self.norms[rows, None]
        return (np.maximum(similarity - TEXT_FLOOR, 0) * weight).astype(np.float32)


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


@dataclass
class ProfileMatrices:
    """Every reader's profile as sparse rows over the day's vocabularies, built once."""

    ids: list[int]
    topics: sparse.csr_matrix
    keywords: sparse.csr_matrix
    excluded: sparse.csr_matrix
    follows: sparse.csr_matrix
    categories: sparse.csr_matrix
    institutions: sparse.csr_matrix
    text: sparse.csr_matrix
    more: TextSimilarity
    less: TextSimilarity
    wants_updates: np.ndarray
    embeddings: np.ndarray | None  # readers × dimension, zero rows for readers without one

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
                [{c for k in x.keywords for c in _keyword_columns(k)} for x in profiles],
                index.phrase_ids,
                n,
            ),
            excluded=_rows_matrix(
                [{c for k in x.exclude_keywords for c in _keyword_columns(k)} for x in profiles],
                index.phrase_ids,
                n,
            ),
            follows=_rows_matrix(
                [{key for a in x.authors for key in _followed_keys(a)} for x in profiles],
                index.author_ids,
                n,
            ),
            categories=_rows_matrix([x.categories for x in profiles], index.category_ids, n),
            institutions=sparse.csr_matrix(
                (
                    np.full(len(institution_rows), WEIGHTS["institution"], dtype=np.float32),
                    (institution_rows, institution_cols),
                ),
                shape=(n, len(index.papers)),
            ),
            text=_centroids([[x.interests] * bool(x.interests) + x.seed_texts for x in profiles]),
            more=TextSimilarity.build([x.more_texts for x in profiles], index),
            less=TextSimilarity.build([x.less_texts for x in profiles], index),
            wants_updates=np.array([x.include_updates for x in profiles], dtype=bool),
            embeddings=_profile_embeddings(profiles, index),
        )


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


def _chunk_scores(index: PaperIndex, m: ProfileMatrices, rows: slice) -> Scores:
    """Relevance of a slice of readers: the sparse signals summed, then dense math."""
    w = WEIGHTS
    ids = m.ids[rows]
    rows_, cols_, data_ = [], [], []

    def add(part: sparse.spmatrix) -> None:
        part = part.tocoo()
        rows_.append(part.row)
        cols_.append(part.col)
        data_.append(part.data)

    categories, keywords = m.categories[rows], m.keywords[rows]
    add(_capped(categories @ index.primary_t, 1, w["category_primary"]))
    add(_capped(categories @ index.cross_t, 1, w["category_cross"]))
    add(_capped(m.topics[rows] @ index.hits_t, 1.4, w["topic"]))
    add(_capped(keywords @ index.in_title_t, 2, w["keyword_title"]))
    add(_capped(keywords @ index.in_abstract_t, 3, w["keyword_abstract"]))
    add(_capped(m.follows[rows] @ index.by_author_t, 1.5, w["author"]))
    add(m.institutions[rows])
    add(_similar(m.text[rows], index.vectors_t, w["text"]))
    # One sparse sum (duplicates add up) turned dense once.
    evidence = sparse.coo_matrix(
        (np.concatenate(data_), (np.concatenate(rows_), np.concatenate(cols_))),
        shape=(len(ids), len(index.papers)),
    ).toarray()
    excluded = m.excluded[rows]
    if m.embeddings is not None and index.embeddings is not None:
        cosine = m.embeddings[rows] @ index.embeddings.T
        evidence += WEIGHTS["embedding"] * np.maximum(cosine - EMBEDDING_FLOOR, 0)
    for part, sign in (
        (m.more.dense(rows, w["feedback_more"]), 1),
        (m.less.dense(rows, w["feedback_less"]), -1),
    ):
        if part is not None:
            evidence += sign * part
    hit = ((excluded @ index.in_title_t) + (excluded @ index.in_abstract_t)).tocoo()
    evidence[hit.row, hit.col] = 0
    damping = np.where(index.is_replacement, REPLACEMENT_FACTOR, 1).astype(np.float32)
    np.multiply(evidence, damping, out=evidence, where=~m.wants_updates[rows, None])
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
