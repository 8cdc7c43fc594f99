"""BM25F over title and abstract, for free-text interests, seed papers and feedback papers.

Terms are stemmed words (stop words out), adjacent word pairs (phrases) and the usual
abbreviations folded together ("LLM" meets "large language models"), hashed into a fixed space.
Document frequencies come from the papers of the last weeks (`DocumentFrequencies`), so a
term's weight does not swing with one day's mix; a title occurrence counts `TITLE_WEIGHT` times
an abstract one. A query's score is divided by what it would score on a paper holding each of
its terms once at the usual length: ~1 is a full match whatever the query, any day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise, repeat
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer

try:  # the hashing loop of sklearn's HashingVectorizer, called without its per-text wrapping
    from sklearn.feature_extraction._hashing_fast import transform as _hashing_transform
except ImportError:  # pragma: no cover - another sklearn layout: its public path below
    _hashing_transform = None

from digests.scoring.matching import abbreviation_forms, stems
from digests.scoring.text_cache import records_get, records_put, text_key

__all__ = [
    "BM25_FEATURES",
    "DocumentFrequencies",
    "bm25_documents",
    "bm25_queries",
    "bm25_terms",
    "queries_prepare",
    "term_counts",
    "term_counts_of_stems",
]

BM25_FEATURES = 2**20
K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2.5  # BM25F: a title occurrence counts this many abstract occurrences
AVERAGE_LENGTH = 110.0  # weighted terms of a typical paper, when the history gives none
MIN_HISTORY = 1000  # papers below which the day's own papers are added to the history
QUERY_TERMS = 40  # a long text (a seed or liked paper) is queried by its most telling terms
MAX_NORMALISED = 1.5  # a query's normalised score is clipped here
QUERY_MEMORY = 200_000  # readers' texts whose term counts are kept (`_query_counts`)
QUERY_STORE = "query-terms-1"  # `text_cache`'s store of them (the version: of this code)
QUERY_DISK_MINIMUM = 100  # fewer texts are counted, not looked up on disk

_QUERY_COUNTS: dict[str, tuple[np.ndarray, np.ndarray]] = {}
_STOP = frozenset(stems(" ".join(ENGLISH_STOP_WORDS))) | {"paper", "propos", "use", "result"}
_FORMS = abbreviation_forms()
# Each form's length, by its first word: only runs starting with such a word are looked up.
_STARTS: dict[str, tuple[int, ...]] = {}
for _form in _FORMS:
    _first, _n = _form.split()[0], len(_form.split())
    _STARTS[_first] = tuple(sorted({*_STARTS.get(_first, ()), _n}))


def bm25_terms(text: str) -> list[str]:
    """Stems without stop words, their adjacent pairs, and abbreviation keys ("§llm")."""
    return _terms_of_stems(stems(text))


def _terms_of_stems(words: list[str]) -> list[str]:
    """`bm25_terms` of a text given as its stems."""
    terms = [w for w in words if w not in _STOP and len(w) > 1]
    terms += [f"{a} {b}" for a, b in pairwise(terms)]
    last = len(words)
    for i, word in enumerate(words):
        for n in _STARTS.get(word, ()):
            if i + n <= last:
                key = _FORMS.get(" ".join(words[i : i + n]))
                if key is not None:
                    terms.append(key)
    return terms


def _term_counter(analyzer: Callable[[Any], list[str]]) -> HashingVectorizer:
    """Raw term counts in the hashed space, terms as `analyzer` finds them."""
    return HashingVectorizer(
        n_features=BM25_FEATURES, analyzer=analyzer, alternate_sign=False, norm=None,
        dtype=np.float32,
    )  # fmt: skip


_VECTORIZER = _term_counter(bm25_terms)
_STEMS_VECTORIZER = _term_counter(_terms_of_stems)
_IDENTITY_VECTORIZER = _term_counter(list)  # texts given as their terms


def _hashed(terms: list[list[str]], vectorizer: HashingVectorizer) -> sparse.csr_matrix:
    """Texts × hashed terms: how often each term occurs, as `vectorizer` counts them (same
    columns, same sorted rows; `test_bm25_counts_match_sklearn` holds them to it)."""
    if _hashing_transform is None or not terms:
        return vectorizer.transform([list(t) for t in terms] if terms else []).tocsr()
    indices, indptr, values = _hashing_transform(
        (zip(row, repeat(1)) for row in terms), BM25_FEATURES, np.float32, False, 0
    )
    counts = sparse.csr_matrix(
        (values, indices, indptr), shape=(len(terms), BM25_FEATURES), dtype=np.float32
    )
    counts.sum_duplicates()  # also sorts each row's terms
    return counts


def _counts(texts: Sequence[str]) -> sparse.csr_matrix:
    return _hashed([bm25_terms(text) for text in texts], _IDENTITY_VECTORIZER)


@dataclass(frozen=True)
class DocumentFrequencies:
    """In how many of `n` papers each hashed term appears, and their mean weighted length."""

    df: np.ndarray  # float32, BM25_FEATURES
    n: int
    average_length: float

    @classmethod
    def of(cls, titles: Sequence[str], abstracts: Sequence[str]) -> DocumentFrequencies:
        return cls.of_counts(_counts(titles), _counts(abstracts))

    @classmethod
    def of_counts(
        cls, title: sparse.csr_matrix, abstract: sparse.csr_matrix
    ) -> DocumentFrequencies:
        present = (title + abstract).tocsr()
        df = np.bincount(present.indices, minlength=BM25_FEATURES).astype(np.float32)
        length = TITLE_WEIGHT * title.sum() + abstract.sum()
        n = title.shape[0]
        return cls(df, n, float(length / n) if n else AVERAGE_LENGTH)

    def plus(self, other: DocumentFrequencies) -> DocumentFrequencies:
        n = self.n + other.n
        length = self.average_length * self.n + other.average_length * other.n
        return DocumentFrequencies(self.df + other.df, n, length / n if n else AVERAGE_LENGTH)

    def idf(self) -> np.ndarray:
        """Robertson–Spärck Jones idf, never negative; an unseen term weighs the most."""
        n = max(self.n, 1)
        return np.log1p((n - self.df + 0.5) / (self.df + 0.5)).astype(np.float32)


def term_counts(texts: Sequence[str]) -> sparse.csr_matrix:
    """Texts × hashed terms: how often each term occurs."""
    return _counts(texts)


def term_counts_of_stems(texts: Sequence[list[str]]) -> sparse.csr_matrix:
    """`term_counts` of texts given as their stems (`matching.stems`): not stemmed again."""
    return _hashed([_terms_of_stems(words) for words in texts], _IDENTITY_VECTORIZER)


def bm25_documents(
    title: sparse.csr_matrix, abstract: sparse.csr_matrix, average_length: float
) -> sparse.csr_matrix:
    """Papers × terms: BM25F's saturated term frequency (idf goes with the query)."""
    tf = (TITLE_WEIGHT * title + abstract).tocsr()
    lengths = np.asarray(tf.sum(axis=1)).ravel()
    norm = K1 * (1 - B + B * lengths / max(average_length, 1.0))
    per_entry = np.repeat(norm, np.diff(tf.indptr)).astype(np.float32)
    tf.data = (tf.data * (K1 + 1) / (tf.data + per_entry)).astype(np.float32)
    return tf


def _strongest(rows: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    """Each row's `k` largest entries (a long text as a query: its most telling terms)."""
    rows.sort_indices()
    keep = np.ones(rows.nnz, dtype=bool)
    for row in np.flatnonzero(np.diff(rows.indptr) > k):
        start, end = rows.indptr[row], rows.indptr[row + 1]
        weakest = np.argpartition(-rows.data[start:end], k)[k:]
        keep[start + weakest] = False
    rows.data[~keep] = 0
    rows.eliminate_zeros()
    return rows


def _count_rows(texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each text's `_counts` row: its terms (sorted) and their counts."""
    counts = _counts(texts)
    bounds = counts.indptr[1:-1]
    return list(zip(np.split(counts.indices, bounds), np.split(counts.data, bounds), strict=True))


def _counts_kept(texts: list[str], rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
    known = _QUERY_COUNTS
    if len(known) + len(texts) > QUERY_MEMORY:
        known.clear()  # bounded: what is asked again is counted again
    known.update(zip(texts, rows, strict=True))


def queries_prepare(texts: Sequence[str], *, at_least: int = QUERY_DISK_MINIMUM) -> int:
    """The term counts of readers' texts (`bm25_queries`), ahead of the chunks that query them:
    read from the store the earlier days left (`text_cache`, by the text), the others counted
    and kept there. Fewer than `at_least` texts not in memory are left to the chunks. Returns
    how many were counted."""
    missing = [t for t in dict.fromkeys(texts) if t not in _QUERY_COUNTS]
    if len(missing) < at_least:
        return 0
    keys = [text_key(t) for t in missing]
    stored = records_get(QUERY_STORE, keys, disk_minimum=at_least)
    held = [(t, k) for t, k in zip(missing, keys, strict=True) if k in stored]
    _counts_kept([t for t, _k in held], [stored[k] for _t, k in held])  # type: ignore[misc]
    new = [(t, k) for t, k in zip(missing, keys, strict=True) if k not in stored]
    if new:
        rows = _count_rows([t for t, _k in new])
        _counts_kept([t for t, _k in new], rows)
        records_put(QUERY_STORE, [k for _t, k in new], rows, persist=len(new) >= at_least)
    return len(new)


def _query_counts(texts: Sequence[str]) -> sparse.csr_matrix:
    """`_counts` of readers' texts, each counted once per process (`queries_prepare`: once,
    whatever the process): they recur across readers, chunks of readers, the day's runs and the
    days."""
    known = _QUERY_COUNTS  # shared by the scorer's threads: read with get, never iterated
    found = {t: entry for t in dict.fromkeys(texts) if (entry := known.get(t)) is not None}
    missing = [t for t in dict.fromkeys(texts) if t not in found]
    if missing:
        rows = _count_rows(missing)
        _counts_kept(missing, rows)
        found.update(zip(missing, rows, strict=True))
    rows = [found[t] for t in texts]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(indices) for indices, _data in rows], out=indptr[1:])
    if not rows:
        return sparse.csr_matrix((0, BM25_FEATURES), dtype=np.float32)
    return sparse.csr_matrix(
        (
            np.concatenate([data for _indices, data in rows]),
            np.concatenate([indices for indices, _data in rows]),
            indptr,
        ),
        shape=(len(rows), BM25_FEATURES),
    )


def bm25_queries(texts: Sequence[str], idf: np.ndarray) -> sparse.csr_matrix:
    """Texts × terms: idf times the saturated count in the query, divided by the self-score.

    The self-score is the query's score on a paper holding each of its terms once at the usual
    length, so a paper's score is the share of the query's weight it matches (~1 at best).
    """
    counts = _query_counts(texts)
    counts.data = (2 * counts.data / (counts.data + 1)).astype(np.float32)
    weighted = _strongest(counts.multiply(idf[None, :]).tocsr(), QUERY_TERMS)
    total = np.asarray(weighted.sum(axis=1)).ravel()
    total[total == 0] = 1
    return _rows_scaled(weighted, (1 / total).astype(np.float32))


def _rows_scaled(rows: sparse.csr_matrix, scale: np.ndarray) -> sparse.csr_matrix:
    """`sparse.diags(scale) @ rows` as scipy's product gives it: each entry times its row's
    scale, each row's entries in reverse order (the order that product leaves them in; later
    products add a row's terms in it), products of zero left out."""
    indptr = rows.indptr
    row_of = np.repeat(np.arange(rows.shape[0]), np.diff(indptr))
    source = (indptr[:-1] + indptr[1:] - 1)[row_of] - np.arange(len(row_of))
    data = scale[row_of] * rows.data[source]
    scaled = sparse.csr_matrix((data, rows.indices[source], indptr.copy()), shape=rows.shape)
    scaled.eliminate_zeros()
    return scaled
