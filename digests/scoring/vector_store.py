"""Vectors of texts, kept once: in memory and under DATA_DIR/scoring/<store>/ for other processes.

A text's vector depends on its model and the text alone, so the in-process model's vectors
(`semantic`) and the embedding server's vectors of readers' interests (`reader_embeddings`) are
both kept by a hash of the text (`text_key`), as one-field records of `text_cache`: at most
CACHE_ENTRIES a store in memory and on disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from digests.scoring.text_cache import records_forget, records_get, records_put, text_key

__all__ = ["CACHE_ENTRIES", "text_key", "vectors_forget", "vectors_get", "vectors_put"]

CACHE_ENTRIES = 150_000  # vectors kept a store (~150 MiB at 256 dimensions), the newest first


def vectors_get(
    name: str, keys: Iterable[bytes], *, disk_minimum: int = 1
) -> dict[bytes, np.ndarray]:
    """The vectors of `keys` this store holds. The files are read only when at least
    `disk_minimum` of the keys are not in memory (a handful of texts can be cheaper to compute
    than reading the shards)."""
    found = records_get(name, keys, disk_minimum=disk_minimum, entries=CACHE_ENTRIES)
    # this store's records: one array each, keyed by `text_key` (bytes)
    return {key: record[0] for key, record in found.items()}  # type: ignore[misc]


def vectors_put(name: str, keys: Sequence[bytes], vectors: np.ndarray, *, persist: bool) -> None:
    """Keep new vectors in memory and, with `persist`, as one more shard on disk."""
    rows = [(row,) for row in np.asarray(vectors, dtype=np.float32)]
    records_put(name, keys, rows, persist=persist, entries=CACHE_ENTRIES)


def vectors_forget(name: str | None = None) -> None:
    """Drop the vectors kept in memory (the files stay): a new process, as far as they go."""
    records_forget(name)
