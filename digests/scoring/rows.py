"""The scorer's rows: a paper and a reader's profile as plain data (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PaperRow", "ProfileRow"]


@dataclass
class PaperRow:
    """A paper as the scorer reads it; categories start with the primary one."""

    id: int
    title: str
    abstract: str
    authors: list[str]
    affiliations: list[str]
    categories: list[str]
    announce_type: str = "new"
    topic_hits: dict[str, float] = field(default_factory=dict)  # slug → 0..100
    embedding: np.ndarray | None = None  # from LLM_EMBEDDING_MODEL, when configured


@dataclass
class ProfileRow:
    id: int
    topics: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    exclude_keywords: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    institutions: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    # arXiv categories the reader seems to read (category → weight 0–1), inferred from their
    # free text, seed papers and feedback (`digests.scoring.categories`); the scorer's prior.
    inferred_categories: dict[str, float] = field(default_factory=dict)
    interests: str = ""
    seed_texts: list[str] = field(default_factory=list)
    # each seed text's weight (library papers weigh by recency of adding); empty: 1 each
    seed_weights: list[float] = field(default_factory=list)
    more_texts: list[str] = field(default_factory=list)
    less_texts: list[str] = field(default_factory=list)
    # (title, abstract) of the papers the reader asked more of or clicked, and of those they
    # were shown and left alone or asked less of, newest first: their own model (`learned`)
    learn_positives: list[tuple[str, str]] = field(default_factory=list)
    learn_negatives: list[tuple[str, str]] = field(default_factory=list)
    include_updates: bool = False
    embedding: np.ndarray | None = None  # mean of the seed and liked papers' embeddings
