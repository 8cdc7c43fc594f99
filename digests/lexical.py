"""LLM-less reading of a paper: an extractive one-line summary and lexical topic hits.

Used when no LLM is configured, when the day's token budget is spent, and as the fallback
shown for a paper whose LLM answer failed. Pure functions: no database, no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digests.text import phrase_in

__all__ = ["LEXICAL_VERSION", "TopicTerms", "extractive_summary", "lexical_topic_hits"]

LEXICAL_VERSION = "lexical-1"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9$\\(])")
_CONTRIBUTION = re.compile(
    r"\b(we (propose|present|introduce|develop|show|study|design|demonstrate|find)|"
    r"this (paper|work)|in this (paper|work)|here,? we)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TopicTerms:
    slug: str
    keywords: tuple[str, ...]
    categories: tuple[str, ...]


def extractive_summary(abstract: str, *, limit: int = 300) -> str:
    """The abstract's sentence that states the contribution (else its first), bounded."""
    sentences = [s.strip() for s in _SENTENCE_END.split(abstract.strip()) if s.strip()]
    if not sentences:
        return ""
    chosen = next((s for s in sentences if _CONTRIBUTION.search(s)), sentences[0])
    return chosen if len(chosen) <= limit else chosen[: limit - 1].rstrip() + "…"


def lexical_topic_hits(
    *, title: str, abstract: str, categories: list[str], topics: list[TopicTerms], top: int = 3
) -> list[dict]:
    """Topics whose keywords the paper uses, scored by how many and where, best first."""
    title_lower = title.lower()
    text = f"{title_lower} {abstract.lower()}"
    hits = []
    for topic in topics:
        found = [k for k in topic.keywords if phrase_in(k, text)]
        if not found:
            continue
        in_title = sum(1 for k in found if phrase_in(k, title_lower))
        in_category = any(c in topic.categories for c in categories)
        score = min(95, 30 + 12 * len(found) + 10 * in_title + (10 if in_category else 0))
        hits.append({"topic": topic.slug, "score": score, "reason": ", ".join(found[:3])})
    hits.sort(key=lambda h: (-h["score"], h["topic"]))
    return hits[:top]
