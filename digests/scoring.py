"""Step 3: how relevant a paper is to one reader, as a number 0–100 and a reason.

Pure functions over plain data (no database, no network), so the scorer is cheap to test.
This is the lexical scorer: topic keywords, the reader's keywords, followed authors and
categories. Exclusions win over everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from digests.text import phrase_in

__all__ = ["PaperText", "ProfileView", "Score", "TopicView", "paper_score"]


@dataclass(frozen=True)
class TopicView:
    slug: str
    name: str
    keywords: tuple[str, ...]
    categories: tuple[str, ...]


@dataclass(frozen=True)
class ProfileView:
    """The parts of an interest profile the scorer reads."""

    topics: tuple[TopicView, ...] = ()
    keywords: tuple[str, ...] = ()
    exclude_keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class PaperText:
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    relevance: int
    reason: str
    topic_slug: str | None = None
    signals: list[str] = field(default_factory=list, compare=False)
    matched_terms: tuple[str, ...] = ()  # the reader's own keywords and authors that matched


def _author_key(name: str) -> str:
    return " ".join(name.lower().replace(".", " ").split())


def paper_score(paper: PaperText, profile: ProfileView) -> Score:
    """Score one paper for one profile: 0 when excluded or nothing matches."""
    title = paper.title.lower()
    text = f"{title} {paper.abstract.lower()}"
    if any(phrase_in(word, text) for word in profile.exclude_keywords):
        return Score(0, "excluded by your keywords")

    score = 0.0
    reasons: list[str] = []
    best_topic: tuple[float, TopicView | None] = (0.0, None)

    for topic in profile.topics:
        hits = [k for k in topic.keywords if phrase_in(k, text)]
        in_category = any(c in topic.categories for c in paper.categories)
        topic_score = min(45.0, 15.0 * len(hits)) + (10.0 if in_category and hits else 0.0)
        if topic_score > best_topic[0]:
            best_topic = (topic_score, topic)
            if hits:
                reasons.append(f"{topic.name}: {', '.join(hits[:3])}")
    score += best_topic[0]

    keyword_hits = [k for k in profile.keywords if phrase_in(k, text)]
    title_hits = [k for k in keyword_hits if phrase_in(k, title)]
    score += min(40.0, 15.0 * len(keyword_hits) + 10.0 * len(title_hits))
    if keyword_hits:
        reasons.append("keywords: " + ", ".join(keyword_hits[:3]))

    followed = {_author_key(a) for a in profile.authors}
    author_hits = [a for a in paper.authors if _author_key(a) in followed]
    if author_hits:
        score += 50.0
        reasons.insert(0, "author you follow: " + ", ".join(author_hits[:2]))

    category_hits = [c for c in paper.categories if c in profile.categories]
    if category_hits:
        score += 10.0 if paper.categories[0] in category_hits else 5.0
        if not reasons:
            reasons.append("category " + " ".join(category_hits))

    relevance = max(0, min(100, round(score)))
    topic = best_topic[1]
    return Score(
        relevance=relevance,
        reason="; ".join(reasons[:3]),
        topic_slug=topic.slug if topic and best_topic[0] > 0 else None,
        signals=reasons,
        matched_terms=(*keyword_hits, *author_hits),
    )
