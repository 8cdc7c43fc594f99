"""LLM-less reading of a paper: an extractive one-line summary and lexical topic hits.

Used when no LLM is configured, when the day's token budget is spent, and as the fallback
shown for a paper whose LLM answer failed. Pure functions: no database, no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from digests.text import latex_formatting_removed

__all__ = ["LEXICAL_VERSION", "TopicTerms", "extractive_summary", "lexical_topic_hits"]

LEXICAL_VERSION = "lexical-3"  # 2: LaTeX text formatting removed; 3: no dangling opener
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9$\\(])")
_CONTRIBUTION = re.compile(
    r"\b(we (propose|present|introduce|develop|show|study|design|demonstrate|find)|"
    r"this (paper|work)|in this (paper|work)|here,? we)\b",
    re.IGNORECASE,
)

# A sentence lifted out of its abstract reads wrong when it opens by pointing back at the one
# before ("Therefore, we…", "However, …"): the opener is left out, the sentence kept.
_OPENER = re.compile(
    r"^(?:therefore|thus|hence|however|moreover|furthermore|additionally|consequently|"
    r"in addition|as a result|to this end|to address (?:this|these)(?: \w+)?|"
    r"in contrast|on the other hand|specifically|finally|instead|accordingly),?\s+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TopicTerms:
    slug: str
    keywords: tuple[str, ...]
    categories: tuple[str, ...]


def extractive_summary(abstract: str, *, limit: int = 300) -> str:
    """The abstract's sentence that states the contribution (else its first), bounded."""
    prose = latex_formatting_removed(abstract.strip())
    sentences = [s.strip() for s in _SENTENCE_END.split(prose) if s.strip()]
    if not sentences:
        return ""
    chosen = next((s for s in sentences if _CONTRIBUTION.search(s)), sentences[0])
    plain = _OPENER.sub("", chosen, count=1)
    if plain != chosen and plain:
        chosen = plain[0].upper() + plain[1:]
    return chosen if len(chosen) <= limit else chosen[: limit - 1].rstrip() + "…"


@lru_cache(maxsize=4096)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """One whole-word, case-insensitive alternation for all of a topic's keywords."""
    alternatives = "|".join(re.escape(k.lower()) for k in sorted(keywords, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def _found(keywords: tuple[str, ...], lowered: str) -> list[str]:
    """The topic's keywords present in the text, in the topic's own order."""
    if not keywords:
        return []
    present = set(_keyword_pattern(keywords).findall(lowered))
    return [k for k in keywords if k.lower() in present]


def lexical_topic_hits(
    *, title: str, abstract: str, categories: list[str], topics: list[TopicTerms], top: int = 3
) -> list[dict]:
    """Topics whose keywords the paper uses, scored by how many and where, best first."""
    title_lower = title.lower()
    text = f"{title_lower} {abstract.lower()}"
    hits: list[dict[str, Any]] = []
    for topic in topics:
        found = _found(topic.keywords, text)
        if not found:
            continue
        in_title = len(_found(tuple(found), title_lower))
        in_category = any(c in topic.categories for c in categories)
        score = min(95, 30 + 12 * len(found) + 10 * in_title + (10 if in_category else 0))
        hits.append({"topic": topic.slug, "score": score, "reason": ", ".join(found[:3])})
    hits.sort(key=lambda h: (-h["score"], h["topic"]))
    return hits[:top]
