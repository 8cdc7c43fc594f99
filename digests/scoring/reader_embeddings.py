"""Readers' free-text interests as vectors of LLM_EMBEDDING_MODEL, for the EMBEDDING signal.

A text's vector depends on the model and the text alone, so each distinct text is embedded
once: kept in memory and under DATA_DIR/scoring/embeddings-<model>/ (one small file per text,
named by the sha256 of model and text) for the other processes and the next days. The texts no
cache holds are sent in one batched call; if the embedding server fails, a warning is logged and
the readers are scored without their interests' vectors (never failing the day).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import threading
from pathlib import Path

import numpy as np
from django.conf import settings

from digests.llm.calls import llm_enabled
from digests.llm.embeddings import texts_embed

__all__ = ["interests_embed", "reader_embeddings_forget"]

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_MEMORY: dict[str, np.ndarray] = {}


def _key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()


def _cache_dir(model: str) -> Path | None:
    if not getattr(settings, "DATA_DIR", None):
        return None
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", model)
    return Path(settings.DATA_DIR) / "scoring" / f"embeddings-{safe}"


def _read(directory: Path | None, key: str) -> np.ndarray | None:
    if directory is None:
        return None
    try:
        vector = np.load(directory / f"{key}.npy", allow_pickle=False)
    except (OSError, ValueError):
        return None  # not there (or half-written by another process): embedded again
    return np.asarray(vector, dtype=np.float32)


def _write(directory: Path | None, key: str, vector: np.ndarray) -> None:
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{key}.{os.getpid()}.tmp.npy"
        np.save(temporary, vector.astype(np.float32), allow_pickle=False)
        temporary.replace(directory / f"{key}.npy")
    except OSError:
        log.warning("interest embeddings not cached under %s", directory, exc_info=True)


def interests_embed(texts: list[str], *, day: dt.date | None = None) -> dict[str, np.ndarray]:
    """The vector of each non-blank text (by text), as far as the cache and the server give them;
    empty when LLM_EMBEDDING_MODEL is unset or no LLM is configured."""
    model = settings.LLM_EMBEDDING_MODEL
    wanted = sorted({t for t in texts if t.strip()})
    if not model or not llm_enabled() or not wanted:
        return {}
    directory = _cache_dir(model)
    found: dict[str, np.ndarray] = {}
    missing: dict[str, str] = {}  # key → text
    with _LOCK:
        for text in wanted:
            key = _key(model, text)
            vector = _MEMORY.get(key)
            if vector is None:
                vector = _read(directory, key)
                if vector is not None:
                    _MEMORY[key] = vector
            if vector is None:
                missing[key] = text
            else:
                found[text] = vector
    if missing:
        try:
            vectors = texts_embed(list(missing.values()), model=model, day=day)
        except Exception:  # the server is down or answers nonsense: score without these vectors
            log.warning(
                "interests not embedded (%d texts): scoring without", len(missing), exc_info=True
            )
            return found
        with _LOCK:
            for (key, text), vector in zip(missing.items(), vectors, strict=True):
                _MEMORY[key] = vector
                _write(directory, key, vector)
                found[text] = vector
    return found


def reader_embeddings_forget() -> None:
    """Drop the vectors kept in memory (the files stay): a new process, as far as they go."""
    with _LOCK:
        _MEMORY.clear()
