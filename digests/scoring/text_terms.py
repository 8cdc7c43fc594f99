"""The papers' text as the index reads it, and the readers' keywords as phrases, prepared once.

A paper's stems (title and abstract) and their BM25 term counts depend on its text alone, and
computing them is Python that holds the interpreter lock: `papers_terms_prepare` computes them
where the papers are read (enrichment, once a day, like their semantic vectors) and keeps them
(`text_cache`, by the text); every scoring run, in whatever process, reads them
(`papers_terms`), computing only what no store holds. A keyword's phrases (`phrase_variants`)
are kept alike across the days: readers' keywords rarely change.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from digests.scoring.bm25 import BM25_FEATURES, term_counts_of_stems
from digests.scoring.matching import phrase_variants, stems
from digests.scoring.text_cache import Record, records_forget, records_get, records_put, text_key

__all__ = [
    "PaperTerms",
    "keywords_phrases",
    "papers_terms",
    "papers_terms_prepare",
    "terms_forget",
]

PAPER_STORE = "paper-terms-1"  # the version: of the code computing them (stems, terms)
PAPER_ENTRIES = 20_000  # papers kept (~10 days; ~3 KiB each): a run reads today's shard
KEYWORD_STORE = "keyword-phrases-1"
DISK_MINIMUM = 100  # fewer missing texts are computed, not looked up on disk
KEYWORD_MEMORY = 200_000  # keywords whose phrases a process keeps

_KEYWORDS: dict[str, str] = {}


@dataclass(frozen=True)
class PaperTerms:
    """The papers' stems, and their term counts (papers × hashed terms, `bm25.term_counts`);
    each paper's key (`text_cache.text_key` of its title and abstract)."""

    keys: list[bytes]
    title_words: list[list[str]]
    abstract_words: list[list[str]]
    titles: sparse.csr_matrix
    abstracts: sparse.csr_matrix


def _words(joined: str) -> list[str]:
    return joined.split(" ") if joined else []


def _records(papers: Sequence[Any]) -> list[Record]:
    """Each paper's stems (title, abstract; space-joined) and their term counts' rows."""
    titles = [stems(p.title) for p in papers]
    abstracts = [stems(p.abstract) for p in papers]
    title_counts, abstract_counts = term_counts_of_stems(titles), term_counts_of_stems(abstracts)
    records: list[Record] = []
    for row, (title, abstract) in enumerate(zip(titles, abstracts, strict=True)):
        t0, t1 = title_counts.indptr[row], title_counts.indptr[row + 1]
        a0, a1 = abstract_counts.indptr[row], abstract_counts.indptr[row + 1]
        records.append(
            (
                " ".join(title),
                " ".join(abstract),
                title_counts.indices[t0:t1],
                title_counts.data[t0:t1],
                abstract_counts.indices[a0:a1],
                abstract_counts.data[a0:a1],
            )
        )
    return records


def _paper_records(papers: Sequence[Any], at_least: int) -> tuple[list[bytes], list[Record], int]:
    """Each paper's key and record, kept or computed now (and kept: on disk when at least
    `at_least` are missing), and how many were computed."""
    keys = [text_key(p.title, p.abstract) for p in papers]
    found = records_get(PAPER_STORE, keys, disk_minimum=at_least, entries=PAPER_ENTRIES)
    missing = {k: p for k, p in zip(keys, papers, strict=True) if k not in found}
    if missing:
        computed = _records(list(missing.values()))
        records_put(
            PAPER_STORE,
            list(missing),
            computed,
            persist=len(missing) >= at_least,
            entries=PAPER_ENTRIES,
        )
        found.update(zip(missing, computed, strict=True))
    return keys, [found[k] for k in keys], len(missing)


def papers_terms_prepare(papers: Sequence[Any]) -> int:
    """Compute the day's papers' stems and term counts once where they are read (enrichment)
    and keep them on disk: each scoring run then reads them instead of stemming 2,000
    abstracts again. Returns how many papers were computed."""
    if not papers:
        return 0
    return _paper_records(papers, at_least=1)[2]


def papers_terms(papers: Sequence[Any]) -> PaperTerms:
    """The papers' stems and term counts: those kept (`papers_terms_prepare`), the others
    computed now; the same as computed from the papers' text."""
    keys, records, _computed = _paper_records(papers, at_least=DISK_MINIMUM)
    return PaperTerms(
        keys=keys,
        title_words=[_words(r[0]) for r in records],  # type: ignore[arg-type]
        abstract_words=[_words(r[1]) for r in records],  # type: ignore[arg-type]
        titles=_rows([r[2] for r in records], [r[3] for r in records]),  # type: ignore[misc]
        abstracts=_rows([r[4] for r in records], [r[5] for r in records]),  # type: ignore[misc]
    )


def _rows(indices: list[np.ndarray], data: list[np.ndarray]) -> sparse.csr_matrix:
    """Papers × hashed terms from each paper's row (terms sorted, each once), as
    `term_counts_of_stems` gives it: the same dtypes, canonical."""
    n = len(indices)
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.fromiter(map(len, indices), dtype=np.int64, count=n), out=indptr[1:])
    matrix = sparse.csr_matrix(
        (
            np.concatenate(data) if n else np.zeros(0, dtype=np.float32),
            np.concatenate(indices) if n else np.zeros(0, dtype=np.int32),
            indptr,
        ),
        shape=(n, BM25_FEATURES),
    )
    matrix.has_canonical_format = True
    return matrix


def keywords_phrases(keywords: Collection[str], *, stored: bool = True) -> dict[str, str]:
    """Each keyword's phrases (`matching.phrase_variants`, sorted, "\n"-joined; "" for none):
    kept in this process and, for many keywords at once (the day's readers'), on disk for the
    next days and processes, by the keyword itself (hashing 70,000 short texts would cost what
    stemming them does). `stored=False`: keywords no store is likely to hold (added since
    enrichment looked for every reader's), computed without reading the files."""
    known = _KEYWORDS
    found = {k: phrases for k in keywords if (phrases := known.get(k)) is not None}
    missing = [k for k in keywords if k not in found]
    new = missing
    if stored and len(missing) >= DISK_MINIMUM:
        kept = records_get(KEYWORD_STORE, missing, disk_minimum=DISK_MINIMUM)
        new = [k for k in missing if k not in kept]
        joined: list[str] = [record[0] for record in kept.values()]  # type: ignore[misc]
        found.update(zip(kept, joined, strict=True))  # type: ignore[arg-type]
    computed = ["\n".join(sorted(phrase_variants(k))) for k in new]
    found.update(zip(new, computed, strict=True))
    if stored and len(missing) >= DISK_MINIMUM and new:
        keeping = [(k, (p,)) for k, p in zip(new, computed, strict=True) if "\0" not in k]
        records_put(
            KEYWORD_STORE,
            [k for k, _record in keeping],
            [record for _k, record in keeping],
            persist=len(new) >= DISK_MINIMUM,
        )
    if len(known) + len(missing) > KEYWORD_MEMORY:
        known.clear()  # bounded: what is asked again is read again
    known.update((k, found[k]) for k in missing)
    return found


def terms_forget() -> None:
    """Drop what this process keeps of texts' stems, terms and phrases (the files stay): a new
    process, as far as they go."""
    from digests.scoring import bm25, keyword_index, matching

    records_forget()
    keyword_index._LAST.clear()
    _KEYWORDS.clear()
    bm25._QUERY_COUNTS.clear()
    matching._STEMS.clear()
