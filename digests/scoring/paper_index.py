"""The day's papers indexed once for every reader: keyword phrases, authors, institutions,
categories and topic hits as sparse papers × vocabulary matrices, the papers' BM25F terms
(`bm25`) and their embeddings.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from functools import lru_cache
from itertools import chain

import numpy as np
from scipy import sparse

from digests.scoring.arrays import binary_rows, unique_sorted
from digests.scoring.bm25 import (
    MIN_HISTORY,
    DocumentFrequencies,
    bm25_documents,
    bm25_queries,
    queries_prepare,
)
from digests.scoring.keyword_index import MANY, NONE, keywords_indexed
from digests.scoring.matching import (
    author_keys_followed,
    author_keys_written,
    institution_tokens,
    phrase_variants,
)
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.semantic import configured_model, paper_text, semantic_prefetch
from digests.scoring.text_terms import papers_terms

__all__ = ["Columns", "PaperIndex", "keyword_columns"]


@lru_cache(maxsize=100_000)
def keyword_columns(keyword: str) -> frozenset[str]:
    """The phrases a keyword is matched as (its variants)."""
    return frozenset(phrase_variants(keyword))


@lru_cache(maxsize=100_000)
def _followed_keys(name: str) -> frozenset[str]:
    return frozenset(author_keys_followed(name))


class Columns(dict[str, tuple[int, ...]]):
    """A reader's value (keyword, author, category, topic) → its columns in one of the day's
    vocabularies, sorted, computed on first use. Shared by the chunks' threads: a value computed
    twice gives the same columns.

    `codes` holds each value seen as one integer, so that many readers' values are looked up
    at once (`profile_matrices`): its one column, `NONE` or `MANY` (its columns are here)."""

    NONE, MANY = NONE, MANY  # (`keyword_index`'s)

    def __init__(self, columns_of: Callable[[str], Iterable[str]], ids: dict[str, int]) -> None:
        super().__init__()
        self._columns_of = columns_of
        self._ids = ids
        self.codes: dict[str, int] = {}

    def __missing__(self, value: str) -> tuple[int, ...]:
        code = self.codes.get(value, self.MANY)
        if code != self.MANY:
            found: tuple[int, ...] = () if code == self.NONE else (code,)
        else:
            ids = self._ids
            found = tuple(sorted({ids[c] for c in self._columns_of(value) if c in ids}))
        self.known(value, found)
        return found

    def known(self, value: str, columns: tuple[int, ...]) -> None:
        """Record a value's columns (computed elsewhere)."""
        self[value] = columns  # before its code: a code MANY means the columns are here
        self.codes[value] = columns[0] if len(columns) == 1 else self.MANY if columns else self.NONE


class PaperIndex:
    """The day's papers, indexed once for every chunk of readers."""

    def __init__(
        self,
        papers: list[PaperRow],
        profiles: list[ProfileRow],
        *,
        frequencies: DocumentFrequencies | None = None,
        semantic: str | None = None,
    ) -> None:
        """`frequencies`: document frequencies of the last weeks' papers (`inputs`); when
        missing or short, the day's own papers are counted in. `semantic`: the in-process
        model (`semantic.SEMANTIC_MODELS`; default the SEMANTIC_MODEL setting)."""
        self.semantic_model = semantic or configured_model()
        texts = _reader_texts(profiles)
        self._papers_indexed(papers, frequencies, self._prefetch(papers, texts))
        self._readers_indexed(profiles, texts)

    @classmethod
    def reusing(
        cls,
        papers: list[PaperRow],
        profiles: list[ProfileRow],
        *,
        frequencies: DocumentFrequencies | None = None,
        semantic: str | None = None,
    ) -> PaperIndex:
        """`PaperIndex(...)`, its papers' part (stems, BM25, authors, categories, topics,
        embeddings) reused from an earlier call with the same papers in this process: a worker
        sending a day chunk after chunk indexes the day's papers once, only the readers'
        keywords for each chunk."""
        model = semantic or configured_model()
        key = (model, _fingerprint(papers))
        cached = _REUSED.get(key)
        texts = _reader_texts(profiles)
        if cached is None or cached.frequencies_given is not frequencies:
            cached = cls.__new__(cls)
            cached.semantic_model = model
            cached._papers_indexed(papers, frequencies, cached._prefetch(papers, texts))
            if len(_REUSED) >= REUSED_KEPT:
                _REUSED.pop(next(iter(_REUSED)))
            _REUSED[key] = cached
            embedded, cached.readers_embedded = cached.readers_embedded, None
        else:
            embedded = None if model == "none" else semantic_prefetch(texts, model)
        index = copy.copy(cached)
        index.readers_embedded = embedded  # these readers' texts (not the shared object's)
        index._readers_indexed(profiles, texts)
        return index

    def _prefetch(
        self, papers: list[PaperRow], texts: list[str]
    ) -> Future[np.ndarray | None] | None:
        """The model tokenises without the interpreter lock: the papers, then the readers'
        texts (`profile_matrices` finds them embedded), while the rest is indexed here."""
        self.readers_embedded: Future[np.ndarray | None] | None = None
        if self.semantic_model == "none":
            return None
        embedding = semantic_prefetch(
            [paper_text(p.title, p.abstract) for p in papers], self.semantic_model
        )
        self.readers_embedded = semantic_prefetch(texts, self.semantic_model)
        return embedding

    def _papers_indexed(
        self,
        papers: list[PaperRow],
        frequencies: DocumentFrequencies | None,
        embedding: Future[np.ndarray | None] | None,
    ) -> None:
        """What depends on the papers alone."""
        self.papers = papers
        self.frequencies_given = frequencies
        n = len(papers)
        terms = self.terms = papers_terms(papers)  # kept since enrichment (`text_terms`)
        self.title_words, self.abstract_words = terms.title_words, terms.abstract_words

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
        primary_rows: list[tuple[int, int]] = []
        cross_rows: list[tuple[int, int]] = []
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

        titles, abstracts = terms.titles, terms.abstracts
        if frequencies is None or frequencies.n < MIN_HISTORY:
            own = DocumentFrequencies.of_counts(titles, abstracts)
            frequencies = own if frequencies is None else frequencies.plus(own)
        self.frequencies = frequencies
        self.idf = frequencies.idf()
        self.bm25_t = bm25_documents(titles, abstracts, frequencies.average_length).T.tocsr()
        self.embeddings = _unit_rows([p.embedding for p in papers])
        self.semantic = embedding.result() if embedding is not None else None
        # Readers × vocabulary @ vocabulary × papers: transposed once, not once per chunk.
        self.primary_t = self.primary.T.tocsr()
        self.cross_t = self.cross.T.tocsr()
        self.hits_t = self.hits.T.tocsr()
        self.by_author_t = self.by_author.T.tocsr()
        self.is_replacement = np.array(
            [p.announce_type.startswith("replace") for p in papers], dtype=bool
        )
        # What the readers' values are in the vocabularies above, each value looked up once.
        self.columns_of_author = Columns(_followed_keys, self.author_ids)
        self.columns_of_category = Columns(lambda category: (category,), self.category_ids)
        # Readers' texts as normalised BM25 queries (`profile_matrices`), each computed once a
        # day: seed and feedback papers recur across readers and chunks.
        self.query_rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _readers_indexed(self, profiles: list[ProfileRow], texts: list[str]) -> None:
        """The readers' keyword phrases (and excluded ones) found in each paper; their texts'
        BM25 term counts, kept since an earlier day (`bm25.queries_prepare`)."""
        less = dict.fromkeys(chain.from_iterable([p.less_texts for p in profiles]))
        every = list(dict.fromkeys([*texts, *less]))  # `texts` first: their rows in both banks
        queries_prepare(every)
        # Each text's row, computed here for all readers at once rather than text by text in
        # the chunks (a row depends on its text alone): its BM25 query, its embedding (the
        # prefetch's rows, `texts` only).
        self.reader_rows = {text: row for row, text in enumerate(every)}
        self.reader_texts = len(texts)
        self.queries = bm25_queries(every, self.idf) if every else None
        keywords = set(chain.from_iterable([p.keywords for p in profiles]))
        keywords.update(chain.from_iterable([p.exclude_keywords for p in profiles]))
        found = keywords_indexed(self.terms, keywords)  # most kept since enrichment
        ids = self.phrase_ids = found.phrase_ids
        n = len(self.title_words)
        self.in_title, self.in_abstract = found.found[:n], found.found[n:]
        self.in_title_t = self.in_title.T.tocsr()
        self.in_abstract_t = self.in_abstract.T.tocsr()
        columns = self.columns_of_keyword = Columns(keyword_columns, ids)
        columns.codes = found.codes  # (this index's own: values are added as they are seen)
        for keyword, several in found.several.items():
            columns[keyword] = several
        self._phrases_in: dict[int, frozenset[int]] = {}

    def phrases_in(self, paper: int) -> frozenset[int]:
        """The keyword phrases (columns) found in a paper's title or abstract, read once."""
        found = self._phrases_in.get(paper)
        if found is None:
            title, abstract = self.in_title, self.in_abstract
            found = self._phrases_in[paper] = frozenset(
                title.indices[title.indptr[paper] : title.indptr[paper + 1]].tolist()
                + abstract.indices[abstract.indptr[paper] : abstract.indptr[paper + 1]].tolist()
            )
        return found

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


REUSED_KEPT = 2  # papers' parts kept by `PaperIndex.reusing`: a day's, a week's
_REUSED: dict[tuple, PaperIndex] = {}


def _fingerprint(papers: list[PaperRow]) -> tuple:
    """Everything of the papers the index reads: equal fingerprints, equal papers' parts."""
    return tuple(
        (
            p.id, p.title, p.abstract, tuple(p.authors), tuple(p.affiliations),
            tuple(p.categories), p.announce_type, tuple(sorted(p.topic_hits.items())),
            None if p.embedding is None else p.embedding.tobytes(),
        )
        for p in papers
    )  # fmt: skip


def _reader_texts(profiles: list[ProfileRow]) -> list[str]:
    """The readers' texts the model embeds: free text, seed and liked papers, each once."""
    texts = dict.fromkeys(chain.from_iterable([x.seed_texts for x in profiles]))
    texts.update(dict.fromkeys(chain.from_iterable([x.more_texts for x in profiles])))
    texts.update(dict.fromkeys([t for t in [x.interests for x in profiles] if t and t.strip()]))
    return list(texts)


def _unit_rows(vectors: list[np.ndarray | None]) -> np.ndarray | None:
    """Unit-length rows when every vector is there with one dimension, else None."""
    present = [v for v in vectors if v is not None]
    if not vectors or len(present) != len(vectors):
        return None
    if len({v.shape for v in present}) != 1:
        return None
    matrix = np.vstack(present).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return matrix / norms


def _binary(rows: list[tuple[int, int]], n: int, m: int) -> sparse.csr_matrix:
    """A binary papers × vocabulary matrix from (paper, column) pairs, each cell once."""
    m = max(m, 1)
    if not rows:
        return sparse.csr_matrix((n, m), dtype=np.float32)
    cells = np.array(rows, dtype=np.int64) @ np.array([m, 1], dtype=np.int64)
    return binary_rows(unique_sorted(cells), n, m)


def _weighted(rows: list[tuple[int, int, float]], n: int, m: int) -> sparse.csr_matrix:
    """A papers × vocabulary matrix from (paper, column, weight), each cell at most once."""
    m = max(m, 1)
    if not rows:
        return sparse.csr_matrix((n, m), dtype=np.float32)
    papers, columns, values = (np.array(v) for v in zip(*rows, strict=True))
    order = np.lexsort((columns, papers))
    return _canonical(papers[order], columns[order], values[order].astype(np.float32), n, m)


def _canonical(
    papers: np.ndarray, columns: np.ndarray, values: np.ndarray, n: int, m: int
) -> sparse.csr_matrix:
    """CSR from cells sorted by paper, then column (each once): the canonical form."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(papers, minlength=n), out=indptr[1:])
    return sparse.csr_matrix((values, columns, indptr), shape=(n, m))
