"""Semantic closeness with no embedding server: a small model whose weights a package ships.

`SEMANTIC_MODEL = "wordllama"` (the default) embeds a text as the mean of its tokens' vectors
from WordLlama's 256-dimension table, loaded from the installed package: nothing is downloaded,
ever (the package's own loader would fetch its tokenizer; it is pointed at the package's copy).
"none" turns the signal off. Papers and the readers' free text, seed and liked papers are
embedded alike; the scorer compares them by cosine.

A text's vector depends on the text alone, so each is computed once and kept (`vector_store`:
in memory and under DATA_DIR for the other processes and the next days; a reader's texts rarely
change, a paper is embedded by every scoring run of its day). Tokenising releases the
interpreter lock: `semantic_prefetch` embeds in the background while the caller goes on, and
`semantic_embed` then finds the vectors computed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from digests.scoring.vector_store import text_key, vectors_forget, vectors_get, vectors_put

__all__ = [
    "SEMANTIC_MODELS",
    "configured_model",
    "paper_text",
    "papers_semantic_prepare",
    "semantic_embed",
    "semantic_forget",
    "semantic_prefetch",
]

SEMANTIC_MODELS = ("wordllama", "none")
DIMENSION = 256
# Fewer texts than this to embed (one reader's preview, a topic page) are computed, not looked
# up on disk: cheaper than reading the files, and a web process holds no cache it does not need.
DISK_MINIMUM = 100
log = logging.getLogger(__name__)

_LOCK = threading.RLock()  # one text is never computed twice by concurrent callers
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="semantic")


def configured_model() -> str:
    """The SEMANTIC_MODEL setting (the default outside Django, e.g. in the benches)."""
    from django.conf import settings

    if not settings.configured:
        return "wordllama"
    return str(getattr(settings, "SEMANTIC_MODEL", "wordllama"))


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


def _store(model: str) -> str:
    return f"semantic-{model}"


def _vectors(texts: Sequence[str], model: str, *, at_least: int) -> tuple[list[np.ndarray], int]:
    """Each text's vector, kept or computed now (and kept), and how many were computed. The
    files are read, and what is computed written, only when `at_least` texts are missing."""
    keys = [text_key(t) for t in texts]
    with _LOCK:
        found = vectors_get(_store(model), keys, disk_minimum=at_least)
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if missing:
            vectors = _compute(list(missing.values()))
            vectors_put(_store(model), list(missing), vectors, persist=len(missing) >= at_least)
            found.update(zip(missing, vectors, strict=True))
        return [found[k] for k in keys], len(missing)


def _embed(texts: Sequence[str], model: str) -> np.ndarray:
    rows, _computed = _vectors(texts, model, at_least=DISK_MINIMUM)
    return np.vstack(rows) if rows else np.zeros((0, DIMENSION), dtype=np.float32)


def semantic_embed(texts: Sequence[str], model: str) -> np.ndarray | None:
    """Unit-length rows (texts × dimension, float32; zero rows for empty texts), or None."""
    if model == "none" or not texts:
        return None
    if model not in SEMANTIC_MODELS:
        raise ValueError(f"unknown SEMANTIC_MODEL {model!r}: one of {SEMANTIC_MODELS}")
    return _embed(texts, model)


def paper_text(title: str, abstract: str) -> str:
    """A paper as the model reads it: the text its vector is kept under."""
    return f"{title}\n{abstract}"


def papers_semantic_prepare(papers: Sequence[Any], model: str | None = None) -> int:
    """Embed the day's papers once where they are read (enrichment) and keep their vectors on
    disk: each scoring run, in whatever process, then reads them instead of tokenising 2,000
    abstracts again. Returns how many papers were embedded (0 with no model)."""
    model = model or configured_model()
    texts = [paper_text(p.title, p.abstract) for p in papers]
    if model == "none" or not texts:
        return 0
    _rows, computed = _vectors(texts, model, at_least=1)
    return computed


def semantic_prefetch(texts: Sequence[str], model: str) -> Future[np.ndarray | None]:
    """Embed `texts` in the background (one text at a time is never computed twice)."""
    return _POOL.submit(semantic_embed, list(texts), model)


def semantic_forget() -> None:
    """Drop the vectors kept in memory (the files stay): a new process, as far as they go."""
    for model in SEMANTIC_MODELS:
        vectors_forget(_store(model))


def _indptr(lengths: np.ndarray) -> np.ndarray:
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return indptr
