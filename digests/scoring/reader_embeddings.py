"""Readers' free-text interests as vectors of LLM_EMBEDDING_MODEL, for the EMBEDDING signal.

A text's vector depends on the model and the text alone, so each distinct text is embedded
once: kept by `vector_store` (in memory and under DATA_DIR/scoring/embeddings-<model>/, by a
hash of model and text) for the other processes and the next days. The texts no cache holds
are sent in one batched call; if the embedding server fails, a warning is logged and
the readers are scored without their interests' vectors (never failing the day).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading

import numpy as np
from django.conf import settings

from digests.llm.calls import llm_enabled
from digests.llm.embeddings import texts_embed
from digests.scoring.vector_store import text_key, vectors_forget, vectors_get, vectors_put

__all__ = ["interests_embed", "reader_embeddings_forget"]

log = logging.getLogger(__name__)

_LOCK = threading.Lock()  # one text is never sent twice by concurrent callers


def _store(model: str) -> str:
    return "embeddings-" + re.sub(r"[^A-Za-z0-9._-]", "_", model)


def interests_embed(texts: list[str], *, day: dt.date | None = None) -> dict[str, np.ndarray]:
    """The vector of each non-blank text (by text), as far as the cache and the server give them;
    empty when LLM_EMBEDDING_MODEL is unset or no LLM is configured."""
    model = settings.LLM_EMBEDDING_MODEL
    wanted = sorted({t for t in texts if t.strip()})
    if not model or not llm_enabled() or not wanted:
        return {}
    keys = {text: text_key(model, text) for text in wanted}
    with _LOCK:
        held = vectors_get(_store(model), keys.values())
    found = {text: held[key] for text, key in keys.items() if key in held}
    missing = {key: text for text, key in keys.items() if key not in held}
    if missing:
        try:
            vectors = texts_embed(list(missing.values()), model=model, day=day)
        except Exception:  # the server is down or answers nonsense: score without these vectors
            log.warning(
                "interests not embedded (%d texts): scoring without", len(missing), exc_info=True
            )
            return found
        array = np.asarray(vectors, dtype=np.float32)
        with _LOCK:
            vectors_put(_store(model), list(missing), array, persist=True)
        found.update(zip(missing.values(), array, strict=True))
    return found


def reader_embeddings_forget() -> None:
    """Drop the vectors kept in memory (the files stay): a new process, as far as they go."""
    model = settings.LLM_EMBEDDING_MODEL
    if model:
        vectors_forget(_store(model))
