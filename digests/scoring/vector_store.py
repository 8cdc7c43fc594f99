"""Vectors of texts, kept once: in memory and under DATA_DIR/scoring/<store>/ for other processes.

A text's vector depends on its model and the text alone, so the in-process model's vectors
(`semantic`) and the embedding server's vectors of readers' interests (`reader_embeddings`) are
both kept here by a hash of the text: in memory (at most CACHE_ENTRIES a store, the ones asked
for last) and as shards of .npz files, each written whole and atomically by one process, read by
the others, merged into one when there are more than MAX_SHARDS.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "CACHE_ENTRIES",
    "shards_written",
    "store_directory",
    "text_key",
    "vectors_forget",
    "vectors_get",
    "vectors_put",
]

CACHE_ENTRIES = 150_000  # vectors kept a store (~150 MiB at 256 dimensions), the newest first
MAX_SHARDS = 32  # files of new vectors before they are merged into one
log = logging.getLogger(__name__)
UNREADABLE = (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile)  # a shard not read

# Where the stores live across processes: DATA_DIR/scoring when Django is configured; a bench
# may point this at a directory of its own. None and no DATA_DIR: memory only.
cache_root: Path | None = None


def text_key(*parts: str) -> bytes:
    """The key of a text (and of what else its vector depends on, e.g. the model)."""
    joined = "\0".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(joined, digest_size=16).digest()


@dataclass
class _Store:
    memory: dict[bytes, np.ndarray] = field(default_factory=dict)
    loaded: set[Path] = field(default_factory=set)  # shards read (a shard never changes)
    lock: threading.RLock = field(default_factory=threading.RLock)


_STORES: dict[str, _Store] = {}
_STORES_LOCK = threading.Lock()


def _store(name: str) -> _Store:
    with _STORES_LOCK:
        return _STORES.setdefault(name, _Store())


def store_directory(name: str) -> Path | None:
    """Where a store's files live (`cache_root`, else DATA_DIR/scoring), or None: memory only."""
    root = cache_root
    if root is None:
        from django.conf import settings

        if not settings.configured or not getattr(settings, "DATA_DIR", None):
            return None
        root = Path(settings.DATA_DIR) / "scoring"
    return root / name


def vectors_get(
    name: str, keys: Iterable[bytes], *, disk_minimum: int = 1
) -> dict[bytes, np.ndarray]:
    """The vectors of `keys` this store holds. The files are read only when at least
    `disk_minimum` of the keys are not in memory (a handful of texts can be cheaper to compute
    than reading the shards)."""
    store, wanted = _store(name), list(dict.fromkeys(keys))
    with store.lock:
        if sum(k not in store.memory for k in wanted) >= disk_minimum:
            _load(store, store_directory(name))
        if len(store.memory) > CACHE_ENTRIES:  # bounded: only what this call asks for is kept
            kept = {k: store.memory[k] for k in wanted if k in store.memory}
            store.memory.clear()
            store.memory.update(kept)
        return {k: store.memory[k] for k in wanted if k in store.memory}


def vectors_put(name: str, keys: Sequence[bytes], vectors: np.ndarray, *, persist: bool) -> None:
    """Keep new vectors in memory and, with `persist`, as one more shard on disk."""
    store = _store(name)
    with store.lock:
        store.memory.update(zip(keys, vectors, strict=True))
        if persist and len(keys):
            _save(store, store_directory(name), list(keys), vectors)


def vectors_forget(name: str | None = None) -> None:
    """Drop the vectors kept in memory (the files stay): a new process, as far as they go."""
    with _STORES_LOCK:
        names = [name] if name is not None else list(_STORES)
        for each in names:
            _STORES.pop(each, None)


def shards_written(directory: Path) -> list[Path]:
    """The shards written whole: a temporary file being written starts with a dot (which
    `glob("*.npz")` matches too), and is neither read nor merged away."""
    return sorted(p for p in directory.glob("*.npz") if not p.name.startswith("."))


def _load(store: _Store, directory: Path | None) -> None:
    """Read the shards that other processes (or earlier days) wrote and this one has not."""
    if directory is None or not directory.is_dir():
        return
    for path in shards_written(directory):
        if path in store.loaded:
            continue
        try:
            with np.load(path) as saved:
                keys, vectors = saved["keys"], saved["vectors"]
        except UNREADABLE:
            continue  # being written or merged away: the next call reads it
        store.loaded.add(path)
        for key, vector in zip(keys, vectors, strict=True):
            store.memory.setdefault(key.tobytes(), vector)


def _save(store: _Store, directory: Path | None, keys: list[bytes], vectors: np.ndarray) -> None:
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{time.time_ns()}-{os.getpid()}.npz"
        _write(path, keys, vectors)
        store.loaded.add(path)
        shards = shards_written(directory)
        if len(shards) > MAX_SHARDS:
            _merge(store, directory, shards)
    except OSError:
        log.warning("vectors not cached under %s", directory, exc_info=True)


def _write(path: Path, keys: list[bytes], vectors: np.ndarray) -> None:
    temporary = path.with_name(f".{path.stem}.tmp.npz")
    array = np.frombuffer(b"".join(keys), dtype="V16")
    np.savez(temporary, keys=array, vectors=np.asarray(vectors, dtype=np.float32))
    temporary.replace(path)


def _merge(store: _Store, directory: Path, shards: list[Path]) -> None:
    """The shards as one file of the newest `CACHE_ENTRIES` vectors (newest shards first)."""
    merged: dict[bytes, np.ndarray] = {}
    for path in reversed(shards):
        try:
            with np.load(path) as saved:
                for key, vector in zip(saved["keys"], saved["vectors"], strict=True):
                    if len(merged) < CACHE_ENTRIES:
                        merged.setdefault(key.tobytes(), vector)
        except UNREADABLE:
            continue
    if merged:
        path = directory / f"{time.time_ns()}-{os.getpid()}-merged.npz"
        _write(path, list(merged), np.vstack(list(merged.values())))
        store.loaded.add(path)
    for path in shards:
        path.unlink(missing_ok=True)
