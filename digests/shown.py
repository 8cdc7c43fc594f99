"""One shown paper: what the e-mail, the feed, the web pages and the previews show of a paper.

`ShownPaper` holds the paper (its arXiv fields, exposed as properties) and what its reading in
the shown language adds (`digests.readings`). Pages wrap it with their own fields (an e-mail
item's rank and feedback links, a public page's author links) rather than copying it. Text is
held as stored: the templates escape it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from digests.models import Enrichment, Paper, Topic
from digests.readings import Reading, primary_language

__all__ = ["ShownPaper", "affiliation_pairs", "best_topic_hit", "shown_paper"]


@dataclass(frozen=True)
class ShownPaper:
    paper: Paper
    language: str  # of the reading's fields below; "" without an LLM reading
    translated_title: str  # "" when there is none, or it is the title itself
    translated_abstract: str
    affiliations: list[str]  # "Zhejiang University(浙江大学)" when translated
    summary: str  # the LLM's, else the lexical reading's extractive one
    summary_is_ai: bool  # False: the abstract's own sentence (LLM-less reading)
    topic_name: str
    topic_reason: str
    relevance: int | None  # percent; None where no relevance is shown (an author page)
    ai_read: bool  # the LLM reading is in the language asked for, not a stand-in

    # The arXiv fields, as the paper holds them.
    @property
    def arxiv_id(self) -> str:
        return self.paper.arxiv_id

    @property
    def version(self) -> int:
        return self.paper.version

    @property
    def versioned_id(self) -> str:
        return self.paper.versioned_id

    @property
    def is_arxiv(self) -> bool:
        return self.paper.is_arxiv

    @property
    def source_label(self) -> str:
        return self.paper.source_label

    @property
    def label(self) -> str:
        return self.paper.label

    @property
    def abs_url(self) -> str:
        return self.paper.abs_url

    @property
    def pdf_url(self) -> str:
        return self.paper.pdf_url

    @property
    def html_url(self) -> str:
        return self.paper.html_url

    @property
    def title(self) -> str:
        return self.paper.title

    @property
    def authors(self) -> list[str]:
        return self.paper.author_names

    @property
    def original_affiliations(self) -> list[str]:
        return self.paper.affiliations

    @property
    def categories(self) -> list[str]:
        return self.paper.categories

    @property
    def primary_category(self) -> str:
        return self.paper.primary_category

    @property
    def announce_date(self) -> dt.date | None:
        return self.paper.announce_date

    @property
    def announce_type(self) -> str:
        return self.paper.announce_type

    @property
    def announce_type_label(self) -> str:
        """In the active language: read when the template renders."""
        return self.paper.get_announce_type_display()

    @property
    def comment(self) -> str:
        return self.paper.comment

    @property
    def journal_ref(self) -> str:
        return self.paper.journal_ref

    @property
    def doi(self) -> str:
        return self.paper.doi

    @property
    def abstract(self) -> str:
        return self.paper.abstract


def affiliation_pairs(originals: list[str], translated: list[str]) -> list[str]:
    """ "Zhejiang University(浙江大学)", as on the reference screens, when a translation exists."""
    pairs = []
    for n, original in enumerate(originals):
        other = translated[n] if n < len(translated) else ""
        pairs.append(f"{original}({other})" if other and other != original else original)
    return pairs


def best_topic_hit(
    readings: Iterable[Enrichment], *, topics: Mapping[str, Topic], focus: Collection[str] | None
) -> tuple[Topic, str] | None:
    """The best-scored hit of the first reading that has one, on a known topic in `focus`
    (None: any topic): the topic and the reading's reason."""
    for reading in readings:
        hits = [
            h
            for h in reading.topic_hits
            if h["topic"] in topics and (focus is None or h["topic"] in focus)
        ]
        if hits:
            best = max(hits, key=lambda h: float(h["score"]))
            return topics[best["topic"]], best["reason"]
    return None


def shown_paper(
    paper: Paper,
    reading: Reading,
    *,
    relevance: int | None = None,
    topic_name: str = "",
    topic_reason: str = "",
    english_abstract: bool = True,
) -> ShownPaper:
    """The paper as shown with `reading` (from `readings_for`).

    `topic_name`, `topic_reason`: the hit the page names (see `best_topic_hit`).
    `english_abstract`: an English LLM reading's abstract is shown as the translated one (the
    e-mail, whose English readers get the LLM's abstract); public pages show the original only.
    """
    llm, lexical = reading.llm, reading.lexical
    # arXiv's titles and affiliations are English: an English reading translates nothing there
    translated = llm is not None and primary_language(llm.language) != "en"
    abstract_shown = llm is not None and (english_abstract or translated)
    return ShownPaper(
        paper=paper,
        language=reading.language,
        translated_title=llm.title if llm and translated and llm.title != paper.title else "",
        translated_abstract=llm.abstract if llm and abstract_shown else "",
        affiliations=affiliation_pairs(
            paper.affiliations, llm.affiliations if llm and translated else []
        ),
        summary=(llm.summary if llm else "") or (lexical.summary if lexical else ""),
        summary_is_ai=bool(llm and llm.summary),
        topic_name=topic_name,
        topic_reason=topic_reason,
        relevance=relevance,
        ai_read=llm is not None and reading.in_language,
    )
