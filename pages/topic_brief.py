"""The brief of the day on a topic page: the LLM's across the topic's papers, else a lexical one.

The LLM brief is the pipeline's own (`digests.brief`: one per topic, day and language, behind
the day's LLM breaker and token budget), written during the day's run for the topics readers
follow, and for any other topic by a task the page queues (`pages.tasks.topic_brief`) the first
time it is shown without one. Its citations [n] are renumbered to the papers' numbers on the page.
Until it exists, or without an LLM, the page shows a lexical brief: how many papers, from which
categories, which of the topic's keywords recur, and the most relevant papers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from digests.llm.prompts import BRIEF_PROMPT_VERSION
from digests.models import Topic, TopicBrief
from digests.readings import CHINESE
from pages.lists import PaperItem

__all__ = ["PageBrief", "topic_brief_held", "topic_brief_lexical", "topic_brief_recite"]

TOP_CATEGORIES = 3
TOP_TERMS = 5
TOP_PAPERS = 3
_CITATION = re.compile(r"\[(\d{1,2})\]")


@dataclass(frozen=True)
class PageBrief:
    text: str
    by_llm: bool
    language: str  # the language the text is in


def topic_brief_held(*, topic: Topic, day: dt.date, language: str) -> TopicBrief | None:
    """The LLM brief of the topic and day in `language`, else the Chinese one: one query."""
    wanted = [language] if language == CHINESE else [language, CHINESE]
    briefs = {
        b.language: b
        for b in TopicBrief.objects.filter(
            topic=topic, date=day, language__in=wanted, prompt_version=BRIEF_PROMPT_VERSION
        )
    }
    return next((briefs[lang] for lang in wanted if lang in briefs), None)


def topic_brief_recite(text: str, paper_ids: list[int], numbers: dict[int, int]) -> str:
    """The brief's citations [n] as the cited paper's number on the page; dropped if not on it."""

    def renumber(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= len(paper_ids) and paper_ids[n - 1] in numbers:
            return f"[{numbers[paper_ids[n - 1]]}]"
        return ""

    return " ".join(_CITATION.sub(renumber, text).split())


def _term_counts(topic: Topic, items: list[PaperItem]) -> Counter[str]:
    """How many of the papers name each of the topic's keywords (title or abstract)."""
    found: Counter[str] = Counter()
    texts = [f"{i.shown.title}\n{i.shown.abstract}".lower() for i in items]
    for keyword in topic.keywords or []:
        if not isinstance(keyword, str) or not keyword.strip():
            continue
        pattern = re.compile(rf"(?<!\w){re.escape(keyword.strip().lower())}(?!\w)")
        count = sum(1 for text in texts if pattern.search(text))
        if count:
            found[keyword.strip()] = count
    return found


def topic_brief_lexical(
    *, topic_name: str, topic: Topic, day: dt.date, count: int, items: list[PaperItem]
) -> str:
    """Without the LLM's: the day's count, its categories, recurring keywords, the top papers."""
    if not count or not items:
        return ""
    parts = [
        ngettext(
            "%(count)d paper of %(day)s hits %(topic)s.",
            "%(count)d papers of %(day)s hit %(topic)s.",
            count,
        )
        % {"count": count, "day": day.isoformat(), "topic": topic_name}
    ]
    categories = Counter(
        i.shown.primary_category or next(iter(i.shown.categories), "") for i in items
    )
    categories.pop("", None)
    if categories:
        named = ", ".join(f"{c} ({n})" for c, n in categories.most_common(TOP_CATEGORIES))
        parts.append(_("Most are listed in %(categories)s.") % {"categories": named})
    terms = _term_counts(topic, items)
    if terms:
        named = ", ".join(f"{t} ({n})" for t, n in terms.most_common(TOP_TERMS))
        parts.append(_("Recurring terms: %(terms)s.") % {"terms": named})
    top = "; ".join(f"“{i.shown.title}” [{n}]" for n, i in enumerate(items[:TOP_PAPERS], 1))
    parts.append(_("The most relevant: %(papers)s.") % {"papers": top})
    return " ".join(parts)
