"""The brief of the day: one short text per topic and language, composed into each digest.

One LLM call per (topic, language, day) for the topics readers of that language follow and
today's papers hit, never a call per reader. Each digest then puts together the briefs of its
reader's topics and a line on their own keyword and author hits, from the day's parts read once
per chunk and language (`BriefParts`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import re
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from digests.llm.answers import BriefAnswer, brief_answer_parse, json_schema
from digests.llm.breaker import DayGate, llm_gate
from digests.llm.calls import TokenBudget, chat_json, llm_async_client, llm_enabled
from digests.llm.prompts import BRIEF_PROMPT_VERSION, brief_messages
from digests.llm.usage import tokens_spent, usage_record
from digests.models import Enrichment, LLMUsage, Paper, Topic, TopicBrief
from digests.readings import readings_for
from subscribers.models import Subscriber

__all__ = ["BriefParts", "BriefReport", "briefs_write", "digest_brief_compose", "topic_papers"]

PAPERS_PER_BRIEF = 10
HIT_THRESHOLD = 50
MAX_TOPICS_IN_BRIEF = 2


@dataclass
class BriefReport:
    written: int = 0
    cached: int = 0
    failed: int = 0
    calls: int = 0
    outage: str = ""  # why briefs were not asked for (LLM breaker open, deadline passed)

    def summary(self) -> str:
        return (
            f"briefs: {self.written} written, {self.cached} cached, {self.failed} failed "
            f"({self.calls} calls)" + (f"; not tried: {self.outage}" if self.outage else "")
        )


def topic_papers(*, date: dt.date, language: str) -> dict[int, list[tuple[Paper, Enrichment]]]:
    """Per topic id, the day's papers whose LLM reading in `language` hits it, best first."""
    papers = list(Paper.objects.filter(announce_date=date))
    readings = readings_for(papers, language)
    slugs = dict(Topic.objects.values_list("slug", "id"))
    found: dict[int, list[tuple[int, Paper, Enrichment]]] = {}
    for paper in papers:
        enrichment = readings[paper.pk].llm  # in `language`: no stand-in
        if enrichment is None:
            continue
        for hit in enrichment.topic_hits:
            if hit["score"] >= HIT_THRESHOLD and hit["topic"] in slugs:
                found.setdefault(slugs[hit["topic"]], []).append((hit["score"], paper, enrichment))
    return {
        topic_id: [(p, e) for _, p, e in sorted(rows, key=lambda r: (-r[0], r[1].arxiv_id))]
        for topic_id, rows in found.items()
    }


def _followed_topics(language: str) -> set[int]:
    return set(
        Topic.objects.filter(
            profiles__subscriber__status=Subscriber.Status.ACTIVE,
            profiles__subscriber__language=language,
        ).values_list("id", flat=True)
    )


async def _write_all(
    jobs: list[tuple[Topic, str, list]], budget: TokenBudget, gate: DayGate
) -> list:
    semaphore = asyncio.Semaphore(settings.LLM_CONCURRENCY)
    schema = json_schema(BriefAnswer)
    async with llm_async_client() as client:
        return await asyncio.gather(
            *(
                chat_json(
                    client,
                    messages=brief_messages(
                        topic_name=topic.name(language),
                        language=language,
                        papers=[
                            {"n": n, "title": e.title, "summary": e.summary}
                            for n, (_, e) in enumerate(rows, start=1)
                        ],
                        schema_in_prompt=None
                        if settings.LLM_STRUCTURED_OUTPUT == "json_schema"
                        else json.dumps(schema),
                    ),
                    parse=functools.partial(brief_answer_parse, language=language),
                    schema_name="daily_brief",
                    schema=schema,
                    budget=budget,
                    semaphore=semaphore,
                    gate=gate,
                )
                for topic, language, rows in jobs
            )
        )


def briefs_write(
    *, date: dt.date, languages: list[str], topics: set[int] | None = None
) -> BriefReport:
    """Write the missing briefs of `date` for the topics readers of each language follow
    (or for `topics`, e.g. the one a topic page shows)."""
    report = BriefReport()
    if not llm_enabled():
        return report
    jobs = []
    held = Topic.objects.in_bulk()
    for language in languages:
        followed = _followed_topics(language) if topics is None else topics
        for topic_id, rows in topic_papers(date=date, language=language).items():
            if topic_id not in followed:
                continue
            topic = held[topic_id]
            exists = TopicBrief.objects.filter(
                topic=topic, date=date, language=language, prompt_version=BRIEF_PROMPT_VERSION
            ).exists()
            if exists:
                report.cached += 1
            else:
                jobs.append((topic, language, rows[:PAPERS_PER_BRIEF]))
    if not jobs:
        return report
    # A topic page's brief, asked for after the day's reading, obeys the breaker, not its deadline.
    gate = llm_gate(date, reading=topics is None)
    report.outage = gate.closed()
    if report.outage:  # the digests carry the lexical brief instead
        report.failed = len(jobs)
        return report
    budget = TokenBudget(settings.LLM_DAILY_TOKEN_BUDGET - tokens_spent(date))
    results = asyncio.run(_write_all(jobs, budget, gate))
    for (topic, language, rows), result in zip(jobs, results, strict=True):
        report.calls += result.calls
        if result.value is None:
            report.failed += 1
            continue
        TopicBrief.objects.update_or_create(
            topic=topic,
            date=date,
            language=language,
            prompt_version=BRIEF_PROMPT_VERSION,
            defaults={
                "text": result.value,
                "paper_ids": [paper.pk for paper, _ in rows],
                "model": settings.LLM_MODEL,
                "tokens_in": result.tokens_in,
                "tokens_out": result.tokens_out,
            },
        )
        report.written += 1
    if report.calls:
        usage_record(
            day=date,
            model=settings.LLM_MODEL,
            purpose=LLMUsage.Purpose.BRIEF,
            tokens_in=sum(r.tokens_in for r in results),
            tokens_out=sum(r.tokens_out for r in results),
            calls=report.calls,
        )
    return report


_CITATION = re.compile(r"\[(\d{1,2})\]")


def _recite(text: str, paper_ids: list[int], ranks: dict[int, int]) -> str:
    """Renumber a topic brief's citations [n] to the paper's number in this reader's digest."""

    def renumber(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= len(paper_ids) and paper_ids[n - 1] in ranks:
            return f"[{ranks[paper_ids[n - 1]]}]"
        return ""

    return " ".join(_CITATION.sub(renumber, text).split())


class BriefParts:
    """The day's parts of every reader's brief in one language, read once: the topics'
    briefs (one query) and the topics' names. A reader's brief is then put together from them
    with no query (`compose`), in the active language (the caller's `override`)."""

    def __init__(self, *, date: dt.date, language: str) -> None:
        self.language = language
        self._briefs = {
            b.topic_id: b
            for b in TopicBrief.objects.filter(
                date=date, language=language, prompt_version=BRIEF_PROMPT_VERSION
            ).only("topic_id", "text", "paper_ids")
        }
        self._names: dict[int, str] = {}

    def _name(self, topic: Topic) -> str:
        name = self._names.get(topic.pk)
        if name is None:
            name = self._names[topic.pk] = topic.name(self.language)
        return name

    def compose(
        self,
        *,
        ranked: list[tuple[int, Paper, str]],
        topics: list[Topic],
        keyword_hits: dict[str, list[int]],
    ) -> str:
        """This reader's brief: the briefs of their topics (citations renumbered) and their
        hits. `ranked` is (rank, paper, topic slug or "") per item; `keyword_hits` maps each
        keyword or followed author that matched to the ranks of its papers."""
        if not ranked:
            return ""
        covered = Counter(slug for _, _, slug in ranked if slug)
        followed = sorted(
            (t for t in topics if covered[t.slug]), key=lambda t: (-covered[t.slug], t.slug)
        )[:MAX_TOPICS_IN_BRIEF]
        parts = []
        ranks: dict[int, int] | None = None
        for topic in followed:
            brief = self._briefs.get(topic.pk)
            if brief is not None:
                if ranks is None:
                    ranks = {paper.pk: rank for rank, paper, _ in ranked}
                recited = _recite(brief.text, brief.paper_ids, ranks)
                parts.append(f"{self._name(topic)}: {recited}")
        if not parts:
            parts.append(self._lexical(ranked, followed, covered))
        if keyword_hits:
            hits = "; ".join(
                f"{term} {' '.join(f'[{r}]' for r in sorted(rank_list)[:5])}"
                for term, rank_list in sorted(keyword_hits.items(), key=lambda kv: min(kv[1]))
            )
            parts.append(_("Your own interests: %(hits)s.") % {"hits": hits})
        return "\n".join(parts)

    def _lexical(
        self, ranked: list[tuple[int, Paper, str]], topics: list[Topic], covered: Counter
    ) -> str:
        """Without an LLM brief: how many matched, through which topics, the closest match."""
        text = _("%(count)d of today's papers match your profile.") % {"count": len(ranked)}
        named = [f"{self._name(t)} ({covered[t.slug]})" for t in topics if covered[t.slug]]
        if named:
            text += " " + _("Most are about %(topics)s.") % {"topics": ", ".join(named)}
        text += " " + _("The closest match: “%(title)s” [1].") % {"title": ranked[0][1].title}
        return text


def digest_brief_compose(
    *,
    date: dt.date,
    language: str,
    ranked: list[tuple[int, Paper, str]],
    topics: list[Topic],
    keyword_hits: dict[str, list[int]],
) -> str:
    """One reader's brief (see `BriefParts.compose`; assembly keeps the parts for a chunk)."""
    if not ranked:
        return ""
    parts = BriefParts(date=date, language=language)
    return parts.compose(ranked=ranked, topics=topics, keyword_hits=keyword_hits)
