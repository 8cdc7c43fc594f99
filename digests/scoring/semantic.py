"""Semantic closeness with no embedding server: a small model whose weights a package ships.

`SEMANTIC_MODEL = "wordllama"` (the default) embeds a text as the mean of its tokens' vectors
from WordLlama's 256-dimension table, loaded from the installed package: nothing is downloaded,
ever (the package's own loader would fetch its tokenizer; it is pointed at the package's copy).
"none" turns the signal off. Papers and the readers' free text, seed and liked papers are
embedded alike; the scorer compares them by cosine.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

__all__ = ["SEMANTIC_MODELS", "configured_model", "semantic_embed"]

SEMANTIC_MODELS = ("wordllama", "none")


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


def semantic_embed(texts: Sequence[str], model: str) -> np.ndarray | None:
    """Unit-length rows (texts × dimension, float32; zero rows for empty texts), or None."""
    if model == "none" or not texts:
        return None
    if model != "wordllama":
        raise ValueError(f"unknown SEMANTIC_MODEL {model!r}: one of {SEMANTIC_MODELS}")
    tokenizer, table = _wordllama()
    encoded = tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
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


def _indptr(lengths: np.ndarray) -> np.ndarray:
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return indptr
