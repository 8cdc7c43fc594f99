"""The readers' keywords as the day's phrase vocabulary, and the phrases each paper holds.

A keyword is matched as its phrases (`text_terms.keywords_phrases`); the vocabulary is all of
the readers' phrases, a phrase's column its position. The keyword products count a reader's
phrases in a paper (sums of ones, exact in any order), so any vocabulary that holds a reader's
phrases, in any order, gives the same relevance: one of more keywords than today's readers
have, or with the phrases of keywords added since appended.

Finding 70,000 phrases in 2,000 abstracts is most of the index's work, and depends on the day's
papers and the readers' keywords alone. Enrichment, which knows both, finds them once
(`keywords_prepare`) and keeps the result by the papers (`text_cache`); each scoring run that
day, in whatever process (`keywords_indexed`), reads it and finds only the phrases of keywords
added since. Without a kept result, everything is found now: the same index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
from scipy import sparse

from digests.scoring.phrase_match import phrases_found
from digests.scoring.text_cache import blob_strings, records_get, records_put, strings_blob
from digests.scoring.text_terms import PaperTerms, keywords_phrases, papers_terms

__all__ = ["MANY", "NONE", "KeywordIndex", "keywords_indexed", "keywords_prepare"]

NONE, MANY = -1, -2  # a keyword's code: its one column, NONE (no phrase) or MANY (`several`)
STORE = "papers-phrases-1"  # the version: of `phrase_variants` and `phrases_found` too
ENTRIES = 20  # days' results kept (each ~4 MiB at 2,000 papers and 70,000 keywords)


@dataclass
class KeywordIndex:
    """Keywords' columns in a phrase vocabulary, and the phrases found in the papers' texts."""

    phrases: list[str]  # a phrase's column is its position (sorted, then any added)
    codes: dict[str, int]  # keyword → its one column, NONE or MANY
    several: dict[str, tuple[int, ...]]  # the MANY keywords' columns
    found: sparse.csr_matrix  # texts (the titles, then the abstracts) × phrases, binary
    _ids: dict[str, int] | None = field(default=None, repr=False)

    @property
    def phrase_ids(self) -> dict[str, int]:
        """Phrase → column."""
        if self._ids is None:
            self._ids = dict(zip(self.phrases, range(len(self.phrases)), strict=True))
        return self._ids


def _codes(
    variants: dict[str, str], ids: dict[str, int]
) -> tuple[dict[str, int], dict[str, tuple[int, ...]]]:
    """Each keyword's code from its "\\n"-joined phrases, and the columns of those of several."""
    codes = {k: ids.get(v, NONE if not v else MANY) for k, v in variants.items()}
    several = {
        k: tuple(sorted(ids[p] for p in variants[k].split("\n") if p))
        for k, code in codes.items()
        if code == MANY
    }
    return codes, several


def _computed(texts: list[list[str]], keywords: Collection[str]) -> KeywordIndex:
    """Everything found now: the keywords' phrases, sorted, in every text."""
    variants = keywords_phrases(keywords)  # each keyword's phrases, "\n"-joined
    phrases = set("\n".join(variants.values()).split("\n"))
    phrases.discard("")  # (a keyword with no words: no phrase)
    ordered = sorted(phrases)
    ids = dict(zip(ordered, range(len(ordered)), strict=True))
    codes, several = _codes(variants, ids)
    return KeywordIndex(ordered, codes, several, phrases_found(texts, ids), ids)


def _extended(index: KeywordIndex, keywords: list[str], texts: list[list[str]]) -> KeywordIndex:
    """`index` and `keywords` it lacks: their phrases not in it added after its own (its
    columns unchanged), found in the texts."""
    variants = keywords_phrases(keywords, stored=False)  # (new since enrichment)
    known = index.phrase_ids
    wanted = set(chain.from_iterable(v.split("\n") for v in variants.values())) - {""}
    new = sorted(wanted - known.keys())
    ids = known
    found = index.found
    if new:
        width = len(index.phrases) + len(new)
        ids = known | dict(zip(new, range(len(index.phrases), width), strict=True))
        fresh = phrases_found(texts, {p: ids[p] for p in new}, width=width)
        old = sparse.csr_matrix((found.data, found.indices, found.indptr), shape=fresh.shape)
        found = (old + fresh).tocsr()  # disjoint columns: each cell once, 1.0; canonical
    codes, several = _codes(variants, ids)
    return KeywordIndex(
        [*index.phrases, *new], index.codes | codes, index.several | several, found, ids
    )


def _papers_key(keys: Sequence[bytes]) -> bytes:
    """The key of a set of papers (each by its text's key), whatever their order."""
    return hashlib.blake2b(b"".join(sorted(set(keys))), digest_size=16).digest()


def _record(keys: list[bytes], index: KeywordIndex) -> tuple[np.ndarray, ...]:
    """A result as arrays: the papers' keys (sorted; their texts' rows in this order), the
    keywords and their codes, the phrases, the MANY keywords' columns, the found matrix."""
    keywords = list(index.codes)
    several = list(index.several)
    position = {k: i for i, k in enumerate(keywords)} if several else {}
    bounds = np.zeros(len(several) + 1, dtype=np.int64)
    np.cumsum([len(index.several[k]) for k in several], out=bounds[1:])
    found = index.found
    return (
        np.frombuffer(b"".join(keys), dtype=np.uint8),
        strings_blob(keywords),
        np.fromiter(index.codes.values(), dtype=np.int64, count=len(keywords)),
        strings_blob(index.phrases),
        np.array([position[k] for k in several], dtype=np.int64),
        bounds,
        np.fromiter(chain.from_iterable(index.several.values()), dtype=np.int64),
        found.indptr.astype(np.int64),
        found.indices.astype(np.int64),
    )


def _from_record(record: tuple[Any, ...]) -> tuple[list[bytes], KeywordIndex]:
    raw_keys, keywords_blob, codes, phrases_blob, positions, bounds, columns, indptr, indices = (
        record
    )
    raw = raw_keys.tobytes()
    if len(raw) % 16:
        raise ValueError("a kept keyword index's papers are not keys")
    keys = [raw[i : i + 16] for i in range(0, len(raw), 16)]
    keywords = blob_strings(keywords_blob) if len(codes) else []
    phrases = blob_strings(phrases_blob) if len(phrases_blob) else []  # (no phrase is "")
    if len(keywords) != len(codes) or len(indptr) != 2 * len(keys) + 1:
        raise ValueError("a kept keyword index does not hold together")
    several = {
        keywords[p]: tuple(columns[a:b].tolist())
        for p, a, b in zip(
            positions.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True
        )
    }
    found = sparse.csr_matrix(
        (
            np.ones(len(indices), dtype=np.float32),
            indices.astype(np.int32),
            indptr.astype(np.int32),
        ),
        shape=(2 * len(keys), max(len(phrases), 1)),
    )
    return keys, KeywordIndex(
        phrases, dict(zip(keywords, codes.tolist(), strict=True)), several, found
    )


def keywords_prepare(papers: Sequence[Any], keywords: Collection[str]) -> int:
    """Find the readers' keywords (and excluded ones) in the day's papers once, at enrichment,
    and keep the result for the day's scoring runs. Returns how many phrases were looked for."""
    if not papers:
        return 0
    terms = papers_terms(papers)  # (kept since `papers_terms_prepare`)
    rows = {key: row for row, key in enumerate(terms.keys)}  # one row for a text twice
    keys = sorted(rows)
    order = [rows[k] for k in keys]
    texts = [terms.title_words[i] for i in order] + [terms.abstract_words[i] for i in order]
    index = _computed(texts, {k for k in keywords if "\0" not in k})  # (NUL: the separator)
    records_put(STORE, [_papers_key(keys)], [_record(keys, index)], persist=True, entries=ENTRIES)
    return len(index.phrases)


_LAST: dict[tuple[bytes, bytes], KeywordIndex] = {}  # the last kept result read, in its order


def _kept(terms: PaperTerms) -> KeywordIndex | None:
    """The kept result for these papers, its texts' rows in their order (read once a process)."""
    order_key = hashlib.blake2b(b"".join(terms.keys), digest_size=16).digest()
    papers_key = _papers_key(terms.keys)
    cached = _LAST.get((papers_key, order_key))
    if cached is not None:
        return cached
    stored = records_get(STORE, [papers_key], entries=ENTRIES).get(papers_key)
    if stored is None:
        return None
    try:
        keys, index = _from_record(stored)
    except (ValueError, TypeError, UnicodeDecodeError):
        return None  # not what this code writes: found again
    rows = {key: row for row, key in enumerate(keys)}
    if any(k not in rows for k in terms.keys):
        return None
    at = np.fromiter((rows[k] for k in terms.keys), dtype=np.int64, count=len(terms.keys))
    index.found = index.found[np.concatenate((at, at + len(keys)))]
    _LAST.clear()
    _LAST[papers_key, order_key] = index
    return index


def keywords_indexed(terms: PaperTerms, keywords: Collection[str]) -> KeywordIndex:
    """The keywords' columns and the phrases the papers' texts hold (titles, then abstracts):
    what enrichment kept for these papers, with the keywords added since; else found now."""
    texts = terms.title_words + terms.abstract_words
    kept = _kept(terms)
    if kept is None:
        return _computed(texts, keywords)
    added = sorted(set(keywords).difference(kept.codes))
    if added:
        return _extended(kept, added, texts)
    return KeywordIndex(kept.phrases, dict(kept.codes), kept.several, kept.found, kept._ids)
