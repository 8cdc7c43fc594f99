"""What is computed from a text alone, kept once: in memory and under DATA_DIR/scoring/<store>/
for the other processes and the next days.

A paper's stems and BM25 term counts (`text_terms`), a reader's free text's term counts, a
keyword's phrases, a text's vector (`vector_store`): each depends on its text (and the code's
version or the model, part of the store's name) alone. A record is a few variable-length fields,
each a string (stems, space-joined; never a NUL) or a 1-D array, kept by a hash of the text
(`text_key`) or by a short text itself: in memory (at most `entries` a store, the ones asked for
last) and as shards of .npz files, each written whole and atomically by one process, read by the
others, merged into one when there are more than MAX_SHARDS. Without a writable directory the
records are computed again: a warning, never a failure.
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
from itertools import pairwise
from pathlib import Path

import numpy as np

__all__ = [
    "CACHE_ENTRIES",
    "Record",
    "blob_strings",
    "records_forget",
    "records_get",
    "records_put",
    "store_directory",
    "strings_blob",
    "text_key",
]

CACHE_ENTRIES = 300_000  # records kept a store, the ones asked for last (~100 MiB of free texts)
MAX_SHARDS = 32  # files of new records before they are merged into one
log = logging.getLogger(__name__)
UNREADABLE = (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile)  # a shard not read

# Where the stores live across processes: DATA_DIR/scoring when Django is configured; a bench
# may point this at a directory of its own. None and no DATA_DIR: memory only.
cache_root: Path | None = None

Record = tuple[str | np.ndarray, ...]
Key = bytes | str  # a text's hash (`text_key`), or a short text itself (a keyword)


def text_key(*parts: str) -> bytes:
    """The key of a text (and of what else its record depends on, e.g. the model)."""
    joined = "\0".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(joined, digest_size=16).digest()


def store_directory(name: str) -> Path | None:
    """Where a store's files live (`cache_root`, else DATA_DIR/scoring), or None: memory only."""
    root = cache_root
    if root is None:
        from django.conf import settings

        if not settings.configured or not getattr(settings, "DATA_DIR", None):
            return None
        root = Path(settings.DATA_DIR) / "scoring"
    return root / name


def shards_written(directory: Path) -> list[Path]:
    """The shards written whole: a temporary file being written starts with a dot (which
    `glob("*.npz")` matches too), and is neither read nor merged away."""
    return sorted(p for p in directory.glob("*.npz") if not p.name.startswith("."))


@dataclass
class _Store:
    memory: dict[Key, Record] = field(default_factory=dict)
    loaded: set[Path] = field(default_factory=set)  # shards read (a shard never changes)
    lock: threading.RLock = field(default_factory=threading.RLock)


_STORES: dict[str, _Store] = {}
_STORES_LOCK = threading.Lock()


def _store(name: str) -> _Store:
    with _STORES_LOCK:
        return _STORES.setdefault(name, _Store())


def records_get(
    name: str, keys: Iterable[Key], *, disk_minimum: int = 1, entries: int | None = None
) -> dict[Key, Record]:
    """The records of `keys` this store holds. The files are read only when at least
    `disk_minimum` of the keys are not in memory, the newest first and only until every key is
    found (a day's papers: the shard their enrichment wrote). At most `entries` are kept."""
    store, wanted = _store(name), list(dict.fromkeys(keys))
    with store.lock:
        memory = store.memory
        missing = [k for k in wanted if k not in memory]
        if len(missing) >= disk_minimum:
            _load(store, store_directory(name), missing)
        if len(memory) > (entries or CACHE_ENTRIES):  # bounded: only what this call asks for
            kept = {k: memory[k] for k in wanted if k in memory}
            memory.clear()
            memory.update(kept)
        return {k: record for k in wanted if (record := memory.get(k)) is not None}


def records_put(
    name: str,
    keys: Sequence[Key],
    records: Sequence[Record],
    *,
    persist: bool,
    entries: int | None = None,
) -> None:
    """Keep new records in memory and, with `persist`, as one more shard on disk (the shards
    merged into the newest `entries` records past MAX_SHARDS)."""
    store = _store(name)
    with store.lock:
        store.memory.update(zip(keys, records, strict=True))
        if persist and len(keys):
            _save(store, store_directory(name), list(keys), list(records), entries or CACHE_ENTRIES)


def records_forget(name: str | None = None) -> None:
    """Drop the records kept in memory (the files stay): a new process, as far as they go."""
    with _STORES_LOCK:
        for each in [name] if name is not None else list(_STORES):
            _STORES.pop(each, None)


def _load(store: _Store, directory: Path | None, missing: list[Key]) -> None:
    """Read the shards that other processes (or earlier days) wrote and this one has not, the
    newest first, until none of `missing` is."""
    if directory is None or not directory.is_dir():
        return
    memory = store.memory
    for path in reversed(shards_written(directory)):
        if path in store.loaded:
            continue
        try:
            keys, records = _read(path)
        except UNREADABLE:
            continue  # merged away, or not a shard: the next call reads what replaced it
        store.loaded.add(path)
        for key, record in zip(keys, records, strict=True):
            memory.setdefault(key, record)  # (a text's record is the same in every shard)
        missing = [k for k in missing if k not in memory]
        if not missing:
            return


def _read(path: Path) -> tuple[list[Key], list[Record]]:
    with np.load(path) as saved:
        keys: list[Key]
        if "names" in saved:
            keys = list(blob_strings(saved["names"]))
        else:
            raw = saved["keys"].tobytes()
            keys = [raw[i : i + 16] for i in range(0, len(raw), 16)]
        n, fields = len(keys), int(saved["fields"])
        columns: list[list] = []
        for j in range(fields):
            if f"s{j}" in saved:
                strings = blob_strings(saved[f"s{j}"]) if n else []
                if len(strings) != n:
                    raise ValueError(f"{path}: field {j} has {len(strings)} of {n} records")
                columns.append(strings)
            else:
                values, bounds = saved[f"a{j}"], saved[f"o{j}"].tolist()
                if len(bounds) != n + 1:
                    raise ValueError(f"{path}: field {j} has {len(bounds) - 1} of {n} records")
                columns.append([values[a:b] for a, b in pairwise(bounds)])
    return keys, list(zip(*columns, strict=True))


def blob_strings(blob: np.ndarray) -> list[str]:
    """The strings `strings_blob` joined (one string at least: an empty blob is [""])."""
    return blob.tobytes().decode("utf-8", "surrogatepass").split("\0")


def strings_blob(strings: Sequence[str]) -> np.ndarray:
    """Strings without NUL as one array of bytes, NUL between them."""
    return np.frombuffer("\0".join(strings).encode("utf-8", "surrogatepass"), dtype=np.uint8)


def _save(
    store: _Store, directory: Path | None, keys: list[Key], records: list[Record], entries: int
) -> None:
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{time.time_ns()}-{os.getpid()}.npz"
        _write(path, keys, records)
        store.loaded.add(path)
        shards = shards_written(directory)
        if len(shards) > MAX_SHARDS:
            _merge(store, directory, shards, entries)
    except OSError:
        log.warning("texts' records not cached under %s: computed again", directory, exc_info=True)


def _write(path: Path, keys: list[Key], records: list[Record]) -> None:
    """One shard, written to a temporary name and renamed: readers see it whole or not at all."""
    arrays: dict[str, np.ndarray] = {}
    if isinstance(keys[0], str):
        arrays["names"] = strings_blob(keys)  # type: ignore[arg-type]
    else:
        arrays["keys"] = np.frombuffer(b"".join(keys), dtype="V16")  # type: ignore[arg-type]
    fields = len(records[0])
    arrays["fields"] = np.array(fields)
    for j, column in enumerate(zip(*records, strict=True)):
        if isinstance(column[0], str):
            arrays[f"s{j}"] = strings_blob(column)
        else:
            lengths = np.fromiter(map(len, column), dtype=np.int64, count=len(column))
            bounds = np.zeros(len(column) + 1, dtype=np.int64)
            np.cumsum(lengths, out=bounds[1:])
            arrays[f"a{j}"] = np.concatenate(column)
            arrays[f"o{j}"] = bounds
    temporary = path.with_name(f".{path.stem}.tmp.npz")
    np.savez(temporary, **arrays)  # type: ignore[arg-type]
    temporary.replace(path)


def _merge(store: _Store, directory: Path, shards: list[Path], entries: int) -> None:
    """The shards as one file of the newest `entries` records (newest shards first)."""
    merged: dict[Key, Record] = {}
    for path in reversed(shards):
        try:
            keys, records = _read(path)
        except UNREADABLE:
            continue
        for key, record in zip(keys, records, strict=True):
            if len(merged) < entries:
                merged.setdefault(key, record)
    if merged:
        path = directory / f"{time.time_ns()}-{os.getpid()}-merged.npz"
        _write(path, list(merged), list(merged.values()))
        store.loaded.add(path)
    for path in shards:
        path.unlink(missing_ok=True)
