"""Semantic closeness with no embedding server: a small model whose weights a package ships.

`SEMANTIC_MODEL = "wordllama"` (the default) embeds a text as the mean of its tokens' vectors
from WordLlama's 256-dimension table, loaded from the installed package: nothing is downloaded,
ever (the package's own loader would fetch its tokenizer; it is pointed at the package's copy).
"none" turns the signal off. Papers and the readers' free text, seed and liked papers are
embedded alike; the scorer compares them by cosine.

A text's vector depends on the text alone, so each is computed once: kept in memory by a hash
of the text and, under DATA_DIR (`cache_dir`), for the other processes and the next days (a
reader's texts rarely change; a paper is embedded by every scoring run of its day). Tokenising
releases the interpreter lock: `semantic_prefetch` embeds in the background while the caller
goes on, and `semantic_embed` then finds the vectors computed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

__all__ = [
    "SEMANTIC_MODELS",
    "configured_model",
    "semantic_embed",
    "semantic_forget",
    "semantic_prefetch",
]

SEMANTIC_MODELS = ("wordllama", "none")
DIMENSION = 256
CACHE_ENTRIES = 150_000  # vectors kept (~150 MiB on disk and in memory), the newest first
MAX_SHARDS = 32  # files of new vectors before they are merged into one
# Fewer texts than this to embed (one reader's preview, a topic page) are computed, not looked
# up on disk: cheaper than reading the files, and a web process holds no cache it does not need.
DISK_MINIMUM = 100
log = logging.getLogger(__name__)

_LOCK = threading.RLock()
_MEMORY: dict[bytes, np.ndarray] = {}
_LOADED: set[Path] = set()  # the shards read into memory (a shard never changes)
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="semantic")
# Where vectors are kept across processes: DATA_DIR/scoring/semantic-<model> when Django is
# configured; None keeps them in memory only (the benches may point it at a directory).
cache_root: Path | None = None


def configured_model() -> str:
    """The SEMANTIC_MODEL setting (the default outside Django, e.g. in the benches)."""
    from django.conf import settings

    if not settings.configured:
        return "wordllama"
    return str(getattr(settings, "SEMANTIC_MODEL", "wordllama"))


def _cache_dir(model: str) -> Path | None:
    root = cache_root
    if root is None:
        from django.conf import settings

        if not settings.configured or not getattr(settings, "DATA_DIR", None):
            return None
        root = Path(settings.DATA_DIR) / "scoring"
    return root / f"semantic-{model}"


@lru_cache(maxsize=1)
def _wordllama() -> tuple[Any, np.ndarray]:
    """WordLlama's tokenizer and token table, from the package's files only."""
    import wordllama
    from wordllama import WordLlama

    package = Path(wordllama.__file__).parent
    model = WordLlama.load(cache_dir=package, disable_download=True)
    tokenizer = model.tokenizer
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer, np.ascontiguousarray(model.embedding, dtype=np.float32)


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _compute(texts: list[str]) -> np.ndarray:
    """Unit-length rows for `texts`, from the model (each row depends on its text alone)."""
    tokenizer, table = _wordllama()
    encoded = tokenizer.encode_batch_fast(texts, add_special_tokens=False)
    lengths = np.array([len(e.ids) for e in encoded], dtype=np.int64)
    ids = np.clip(np.concatenate([np.asarray(e.ids, dtype=np.int64) for e in encoded]), 0, None)
    counts = sparse.csr_matrix(
        (np.ones(len(ids), dtype=np.float32), np.minimum(ids, len(table) - 1), _indptr(lengths)),
        shape=(len(texts), len(table)),
    )
    vectors = np.asarray(counts @ table, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return vectors / norms


def _load(directory: Path | None) -> None:
    """Read the shards that other processes (or earlier days) wrote and this one has not."""
    if directory is None or not directory.is_dir():
        return
    for path in sorted(directory.glob("*.npz")):
        if path in _LOADED:
            continue
        try:
            with np.load(path) as saved:
                keys, vectors = saved["keys"], saved["vectors"]
        except (OSError, KeyError, ValueError):
            continue  # being written or merged away: the next call reads it
        _LOADED.add(path)
        for key, vector in zip(keys, vectors, strict=True):
            _MEMORY.setdefault(key.tobytes(), vector)


def _save(directory: Path | None, keys: list[bytes], vectors: np.ndarray) -> None:
    """Write new vectors as one more shard; merge the shards when there are too many."""
    if directory is None or not keys:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{time.time_ns()}-{os.getpid()}.npz"
        _write(path, keys, vectors)
        _LOADED.add(path)
        shards = sorted(directory.glob("*.npz"))
        if len(shards) > MAX_SHARDS:
            _merge(directory, shards)
    except OSError:
        log.warning("semantic vectors not cached under %s", directory, exc_info=True)


def _write(path: Path, keys: list[bytes], vectors: np.ndarray) -> None:
    temporary = path.with_name(f".{path.stem}.tmp.npz")
    array = np.frombuffer(b"".join(keys), dtype="V16")
    np.savez(temporary, keys=array, vectors=vectors.astype(np.float32))
    temporary.replace(path)


def _merge(directory: Path, shards: list[Path]) -> None:
    """The shards as one file of the newest `CACHE_ENTRIES` vectors (newest shards first)."""
    merged: dict[bytes, np.ndarray] = {}
    for path in reversed(shards):
        try:
            with np.load(path) as saved:
                for key, vector in zip(saved["keys"], saved["vectors"], strict=True):
                    if len(merged) < CACHE_ENTRIES:
                        merged.setdefault(key.tobytes(), vector)
        except (OSError, KeyError, ValueError):
            continue
    if merged:
        path = directory / f"{time.time_ns()}-{os.getpid()}-merged.npz"
        _write(path, list(merged), np.vstack(list(merged.values())))
        _LOADED.add(path)
    for path in shards:
        path.unlink(missing_ok=True)


def _embed(texts: Sequence[str], model: str) -> np.ndarray:
    keys = [_key(t) for t in texts]
    with _LOCK:
        directory = _cache_dir(model)
        if sum(k not in _MEMORY for k in set(keys)) >= DISK_MINIMUM:
            _load(directory)
        if len(_MEMORY) > CACHE_ENTRIES:  # bounded: only what this call asks for is kept
            kept = {k: _MEMORY[k] for k in keys if k in _MEMORY}
            _MEMORY.clear()
            _MEMORY.update(kept)
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in _MEMORY}
        if missing:
            vectors = _compute(list(missing.values()))
            _MEMORY.update(zip(missing, vectors, strict=True))
            if len(missing) >= DISK_MINIMUM:
                _save(directory, list(missing), vectors)
        found = [_MEMORY[k] for k in keys]
    return np.vstack(found) if found else np.zeros((0, DIMENSION), dtype=np.float32)


def semantic_embed(texts: Sequence[str], model: str) -> np.ndarray | None:
    """Unit-length rows (texts × dimension, float32; zero rows for empty texts), or None."""
    if model == "none" or not texts:
        return None
    if model not in SEMANTIC_MODELS:
        raise ValueError(f"unknown SEMANTIC_MODEL {model!r}: one of {SEMANTIC_MODELS}")
    return _embed(texts, model)


def semantic_prefetch(texts: Sequence[str], model: str) -> Future[np.ndarray | None]:
    """Embed `texts` in the background (one text at a time is never computed twice)."""
    return _POOL.submit(semantic_embed, list(texts), model)


def semantic_forget() -> None:
    """Drop the vectors kept in memory (the files stay): a new process, as far as they go."""
    with _LOCK:
        _MEMORY.clear()
        _LOADED.clear()


def _indptr(lengths: np.ndarray) -> np.ndarray:
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return indptr
