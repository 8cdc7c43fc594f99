"""One embedding per paper (title + abstract), when LLM_EMBEDDING_MODEL is set.

Stored compactly as float32 bytes on the paper, for the scorer. Readers' free-text interests are
embedded too (`texts_embed`), each distinct text once (cached by `scoring.reader_embeddings`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import openai
from django.conf import settings
from django.utils import timezone

from digests.llm.breaker import LLMUnavailable, llm_gate
from digests.llm.calls import embeddings_create, llm_client, llm_enabled
from digests.llm.usage import usage_record
from digests.models import LLMUsage, Paper

__all__ = ["embedding_of", "papers_embed", "texts_embed"]

BATCH = 64


def embedding_of(paper: Paper) -> np.ndarray | None:
    """The paper's stored vector, or None."""
    if not paper.embedding:
        return None
    return np.frombuffer(bytes(paper.embedding), dtype=np.float32)


def papers_embed(papers: list[Paper], *, day: dt.date | None = None) -> int:
    """Embed the papers that have no vector from the configured model; return how many."""
    model = settings.LLM_EMBEDDING_MODEL
    if not model or not llm_enabled():
        return 0
    todo = [p for p in papers if p.embedding_model != model or not p.embedding]
    if not todo:
        return 0
    client = llm_client()
    gate = llm_gate(day)  # the day's reading: breaker and deadline
    done = 0
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        try:
            response = embeddings_create(
                client,
                model=model,
                texts=[f"{p.title}\n\n{p.abstract}" for p in batch],
                gate=gate,
            )
        except (openai.APIError, LLMUnavailable):
            break  # lexical matching stands in; the next run tries again
        for paper, item in zip(batch, sorted(response.data, key=lambda d: d.index), strict=True):
            paper.embedding = np.asarray(item.embedding, dtype=np.float32).tobytes()
            paper.embedding_model = model
        Paper.objects.bulk_update(batch, ["embedding", "embedding_model"])
        tokens = response.usage.prompt_tokens if response.usage else 0
        usage_record(
            day=day or timezone.now().date(),
            model=model,
            purpose=LLMUsage.Purpose.EMBED,
            tokens_in=tokens,
            tokens_out=0,
        )
        done += len(batch)
    return done


def texts_embed(texts: list[str], *, model: str, day: dt.date | None = None) -> list[np.ndarray]:
    """One vector per text, from `model`, in batches; raises openai's errors, or LLMUnavailable
    when the day's breaker is open (callers decide)."""
    client = llm_client()
    gate = llm_gate(day, reading=False)  # send-time: the breaker, not the reading deadline
    vectors: list[np.ndarray] = []
    for start in range(0, len(texts), BATCH):
        batch = texts[start : start + BATCH]
        response = embeddings_create(client, model=model, texts=batch, gate=gate)
        items = sorted(response.data, key=lambda d: d.index)
        vectors.extend(np.asarray(item.embedding, dtype=np.float32) for item in items)
        usage_record(
            day=day or timezone.now().date(),
            model=model,
            purpose=LLMUsage.Purpose.EMBED,
            tokens_in=response.usage.prompt_tokens if response.usage else 0,
            tokens_out=0,
        )
    if len(vectors) != len(texts):
        raise ValueError(f"{len(vectors)} embeddings for {len(texts)} texts")
    return vectors
