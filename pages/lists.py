"""What the public topic and author pages show, each built in a fixed number of queries.

The author page itself is `pages.author_page`; the topic page's brief is `pages.topic_brief`.

A page shows one reading of each paper (`digests.readings.readings_for`): the LLM's in the
page's language if there is one, else the Chinese one (the language every paper is read in
first), else none; the lexical reading fills in a summary and a topic hit when the LLM gave
none. Text is returned as it is stored: the templates escape it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.urls import reverse

from digests.models import Paper, Topic
from digests.readings import (
    CHINESE,
    latest_issue_date,
    readings_for,
)
from digests.scoring.matching import author_keys_followed
from digests.scoring.profile_matrices import expand_topics
from digests.shown import ShownPaper, best_topic_hit, shown_paper
from pages.topic_relevance import topic_day_relevance

__all__ = [
    "TOPIC_PAGE_SIZE",
    "AuthorLink",
    "PaperItem",
    "TopicPage",
    "announce_day_parse",
    "page_number_parse",
    "paper_items",
    "topic_page_build",
]

TOPIC_PAGE_SIZE = 50  # the day's papers of a topic on one page, as the reference screen
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class AuthorLink:
    name: str
    url: str  # "" when the name cannot have a page (a single word)


@dataclass(frozen=True)
class PaperItem:
    """A paper on a public page: the shown paper, and its authors linked to their pages."""

    shown: ShownPaper
    authors: list[AuthorLink]


@dataclass(frozen=True)
class TopicPage:
    topic: Topic
    name: str  # in the page's language
    other_name: str  # the English or Chinese name, whichever `name` is not ("" if the same)
    description: str
    subtopics: list[str]  # names of the sub-topics whose hits count too
    day: dt.date | None  # None: no paper ingested yet
    previous_day: dt.date | None
    next_day: dt.date | None
    count: int  # the day's papers hitting the topic
    items: list[PaperItem]
    page: int
    has_next: bool

    @property
    def offset(self) -> int:
        """Papers on the pages before this one (items are numbered on from it)."""
        return (self.page - 1) * TOPIC_PAGE_SIZE


def announce_day_parse(text: str) -> dt.date:
    """A YYYY-MM-DD day; ValueError otherwise (ISO weeks and ordinals are not days here)."""
    if not _ISO_DAY.fullmatch(text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def page_number_parse(text: str | None) -> int:
    """A page number from 1 to 10,000 (absent: 1); ValueError otherwise."""
    if text is None or text == "":
        return 1
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise ValueError(text)
    return int(text)


def topic_page_build(
    *, slug: str, day: dt.date | None, page: int, language: str
) -> TopicPage | None:
    """The topic's papers of `day` (default: the latest announcement day), most relevant first.

    A paper's relevance is the scorer's for a reader who follows only this topic (its
    sub-topics count): the percentage such a reader's e-mail shows (`pages.topic_relevance`).
    The page lists the papers scoring at least 1, every topic of the catalogue (featured or
    not). None when the topic is unknown.
    """
    topics = {t.slug: t for t in Topic.objects.all()}
    topic = topics.get(slug)
    if topic is None:
        return None
    by_id = {t.pk: t for t in topics.values()}
    parents = {t.slug: by_id[t.parent_id].slug for t in topics.values() if t.parent_id in by_id}
    covered = expand_topics([slug], parents)
    day, previous_day, next_day = _day_navigation(day)
    relevance, held = (
        topic_day_relevance(day=day, slug=slug, slugs=list(topics), parents=parents)
        if day
        else ({}, None)
    )
    ranked = sorted(relevance, key=lambda pid: (-relevance[pid][0], relevance[pid][1]))
    shown = ranked[(page - 1) * TOPIC_PAGE_SIZE : page * TOPIC_PAGE_SIZE]
    name, other_name = _topic_names(topic, language)
    return TopicPage(
        topic=topic,
        name=name,
        other_name=other_name,
        description=topic.description(language),
        subtopics=[
            topics[s].name(language)
            for s in sorted(covered - {slug}, key=lambda s: (topics[s].position, s))
        ],
        day=day,
        previous_day=previous_day,
        next_day=next_day,
        count=len(ranked),
        items=paper_items(
            paper_ids=shown,
            language=language,
            topics=topics,
            focus=covered,
            relevance={pid: relevance[pid][0] for pid in shown},
            papers=held,
        ),
        page=page,
        has_next=len(ranked) > page * TOPIC_PAGE_SIZE,
    )


def _topic_names(topic: Topic, language: str) -> tuple[str, str]:
    """The name in the page's language, and the English or Chinese one beside it, as seed 003."""
    name = topic.name(language)
    english, chinese = topic.names.get("en", ""), topic.names.get("zh", "")
    other = chinese if name == english else english
    return name, other if other != name else ""


def _day_navigation(day: dt.date | None) -> tuple[dt.date | None, dt.date | None, dt.date | None]:
    """The day shown, and the announcement days before and after it that have papers."""
    following = None
    if day is None:
        day = latest_issue_date(source="papers")
        if day is None:
            return None, None, None
    else:
        # Index lookups: one filtered aggregate would scan every paper.
        dates = Paper.objects.values_list("announce_date", flat=True)
        following = dates.filter(announce_date__gt=day).order_by("announce_date").first()
    previous = latest_issue_date(day - dt.timedelta(days=1), source="papers")
    return day, previous, following


def paper_items(
    *,
    paper_ids: list[int],
    language: str,
    topics: dict[str, Topic],
    focus: set[str] | None,
    relevance: dict[int, int] | None,
    papers: dict[int, Paper] | None = None,
) -> list[PaperItem]:
    """The papers in the given order with their readings: two queries, whatever their number.

    `focus`: the topics whose hit the item names (None: the paper's best hit of any topic).
    `papers`: the papers by id, when the caller has read them already (one query less).
    """
    if not paper_ids:
        return []
    if papers is None:
        papers = Paper.objects.in_bulk(paper_ids)
    readings = readings_for(papers.values(), language, loose=True, stand_in=CHINESE)
    items = []
    for paper_id in paper_ids:
        paper = papers.get(paper_id)
        if paper is None:  # removed since the author index was built
            continue
        reading = readings[paper_id]
        hit = best_topic_hit(reading.shown, topics=topics, focus=focus)
        shown = shown_paper(
            paper,
            reading,
            relevance=relevance.get(paper_id) if relevance is not None else None,
            topic_name=hit[0].name(language) if hit else "",
            topic_reason=hit[1] if hit else "",
            english_abstract=False,
        )
        items.append(
            PaperItem(shown=shown, authors=[_author_link(name) for name in paper.author_names])
        )
    return items


def _author_link(name: str) -> AuthorLink:
    if not author_keys_followed(name):
        return AuthorLink(name=name, url="")
    return AuthorLink(name=name, url=reverse("public:author", args=[name]))
