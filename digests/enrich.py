"""Step 2: each paper read once per language, never per subscriber.

One structured LLM call per (paper version, language) gives the translated title and abstract,
a one-line summary, translated affiliations and the paper's topic hits; the answer is cached by
(paper version, language, prompt version). Without an LLM, or once the day's token budget is
spent, papers get the lexical reading (English, extractive summary, keyword topic hits).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from digests.llm.answers import EnrichAnswer, enrich_answer_parse, json_schema
from digests.llm.breaker import DayGate, llm_reading_start
from digests.llm.calls import CallResult, TokenBudget, chat_json, llm_async_client, llm_enabled
from digests.llm.prompts import ENRICH_PROMPT_VERSION, enrich_messages
from digests.llm.usage import tokens_spent, usage_record
from digests.models import Enrichment, LLMUsage, Paper, Topic
from digests.scoring.lexical import (
    LEXICAL_VERSION,
    TopicTerms,
    extractive_summary,
    lexical_topic_hits,
)
from subscribers.models import InterestProfile, Subscriber

__all__ = [
    "EnrichReport",
    "enrich_languages",
    "lexical_enrich",
    "papers_by_importance",
    "papers_enrich",
    "topic_terms",
]

log = logging.getLogger(__name__)

CHUNK_PER_SLOT = 4  # jobs per concurrency slot between two database writes


@dataclass
class EnrichReport:
    papers: int = 0
    languages: list[str] = field(default_factory=list)
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    enriched: int = 0
    cached: int = 0
    failed: int = 0
    skipped: int = 0
    unreached: int = 0  # (paper, language) no reader of that language would be shown: lexical
    llm: bool = True
    outage: str = ""  # why the run stopped calling the LLM

    def summary(self) -> str:
        if not self.llm:
            return (
                f"LLM-less mode (no OPENAI_API_KEY): {self.papers} papers read lexically, "
                "in English"
            )
        return (
            f"enriched {self.enriched} of {self.papers} papers × {len(self.languages)} languages "
            f"({', '.join(self.languages)}): {self.cached} cached, {self.failed} failed, "
            f"{self.skipped} skipped for the budget, {self.unreached} left lexical (no reader "
            f"would be shown them); {self.calls} calls, "
            f"{self.tokens_in}+{self.tokens_out} tokens"
            + (f"; stopped early: {self.outage}" if self.outage else "")
        )


def enrich_languages() -> list[str]:
    """The languages active readers read in, Chinese first, then by number of readers."""
    counts = Counter(
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).values_list(
            "language", flat=True
        )
    )
    return sorted(counts, key=lambda lang: (not lang.startswith("zh"), -counts[lang], lang))


def papers_by_importance(papers: Iterable[Paper]) -> list[Paper]:
    """Papers that more readers will see first: followers of their topics and categories."""
    active = InterestProfile.objects.filter(subscriber__status=Subscriber.Status.ACTIVE)
    by_category: Counter[str] = Counter()
    for categories in active.values_list("categories", flat=True):
        by_category.update(categories)
    by_topic = Counter(
        dict(
            Topic.objects.filter(profiles__in=active)
            .values_list("slug")
            .annotate(n=Count("profiles"))
            .values_list("slug", "n")
        )
    )
    lexical = {
        e.paper_id: e.topic_hits
        for e in Enrichment.objects.filter(
            paper__in=[p.pk for p in papers], prompt_version=LEXICAL_VERSION
        )
    }

    def readers(paper: Paper) -> int:
        topical = sum(by_topic[hit["topic"]] for hit in lexical.get(paper.pk, []))
        return topical + sum(by_category[c] for c in paper.categories)

    return sorted(papers, key=lambda p: (-readers(p), p.arxiv_id))


def topic_terms(topic: Topic) -> TopicTerms:
    """What the lexical reading matches a topic by."""
    return TopicTerms(
        slug=topic.slug, keywords=tuple(topic.keywords), categories=tuple(topic.categories)
    )


def _topic_terms() -> list[TopicTerms]:
    return [topic_terms(t) for t in Topic.objects.all()]


def lexical_enrich(papers: list[Paper]) -> int:
    """Store the lexical reading of every paper version that lacks one; return how many."""
    terms = _topic_terms()
    have = set(
        Enrichment.objects.filter(
            paper__in=papers, prompt_version=LEXICAL_VERSION, language="en"
        ).values_list("paper_id", "paper_version")
    )
    new = [
        Enrichment(
            paper=paper,
            paper_version=paper.version,
            language="en",
            prompt_version=LEXICAL_VERSION,
            status=Enrichment.Status.LLM_LESS,
            title=paper.title,
            abstract=paper.abstract,
            summary=extractive_summary(paper.abstract),
            affiliations=paper.affiliations,
            topic_hits=lexical_topic_hits(
                title=paper.title,
                abstract=paper.abstract,
                categories=paper.categories,
                topics=terms,
            ),
        )
        for paper in papers
        if (paper.pk, paper.version) not in have
    ]
    Enrichment.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


@dataclass(frozen=True)
class _Job:
    paper: Paper
    language: str


def _catalogue(language: str) -> list[dict[str, str]]:
    """The topics as the model sees them; their keywords say what the staff mean by each."""
    return [
        {
            "slug": t.slug,
            "name": t.name(language),
            "description": t.description(language),
            "keywords": ", ".join(t.keywords),
        }
        for t in Topic.objects.all()
    ]


async def _answer_all(
    jobs: list[_Job], catalogues: dict, budget: TokenBudget, gate: DayGate
) -> list[CallResult]:
    semaphore = asyncio.Semaphore(settings.LLM_CONCURRENCY)
    schema = json_schema(EnrichAnswer)
    known = {t["slug"] for t in next(iter(catalogues.values()), [])}
    async with llm_async_client() as client:

        async def one(job: _Job) -> CallResult:
            affiliations = job.paper.affiliations
            return await chat_json(
                client,
                messages=enrich_messages(
                    title=job.paper.title,
                    abstract=job.paper.abstract,
                    affiliations=affiliations,
                    language=job.language,
                    topics=catalogues[job.language],
                    source=job.paper.source_label,
                    schema_in_prompt=None
                    if settings.LLM_STRUCTURED_OUTPUT == "json_schema"
                    else json.dumps(schema),
                ),
                parse=lambda content: enrich_answer_parse(
                    content,
                    known_topics=known,
                    affiliation_count=len(affiliations),
                    language=job.language,
                ),
                schema_name="paper_enrichment",
                schema=schema,
                budget=budget,
                semaphore=semaphore,
                gate=gate,
            )

        return await asyncio.gather(*(one(job) for job in jobs))


def _store(job: _Job, result: CallResult) -> str:
    """Write one outcome; return "enriched", "failed" or "skipped"."""
    answer: EnrichAnswer | None = result.value
    if answer is not None:
        status, outcome = Enrichment.Status.OK, "enriched"
        fields = {
            "title": answer.title,
            "abstract": answer.abstract,
            "summary": answer.summary,
            "affiliations": answer.affiliations,
            "topic_hits": [hit.model_dump() for hit in answer.topic_hits],
        }
    else:
        status = Enrichment.Status.SKIPPED if result.budget_spent else Enrichment.Status.FAILED
        outcome = "skipped" if result.budget_spent else "failed"
        fields = {"title": "", "abstract": "", "summary": "", "affiliations": [], "topic_hits": []}
    Enrichment.objects.update_or_create(
        paper=job.paper,
        paper_version=job.paper.version,
        language=job.language,
        prompt_version=ENRICH_PROMPT_VERSION,
        defaults={
            **fields,
            "status": status,
            "error": result.error,
            "model": settings.LLM_MODEL,
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
        },
    )
    return outcome


def papers_enrich(
    *,
    papers: list[Paper],
    languages: list[str] | None = None,
    day: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
    reach: dict[str, set[int]] | None = None,
) -> EnrichReport:
    """Enrich every paper in every language that needs it, most-read papers first.

    `reach` (language → paper ids some reader of that language would be shown, from
    `digests.reach`): the other papers keep their lexical reading in that language."""
    languages = languages if languages is not None else enrich_languages()
    report = EnrichReport(papers=len(papers), languages=languages, llm=llm_enabled())
    lexical_enrich(papers)
    if not report.llm:
        if progress:
            progress(len(papers))
        return report
    day = day or timezone.now().date()
    done = set(
        Enrichment.objects.filter(
            paper__in=papers, prompt_version=ENRICH_PROMPT_VERSION, status=Enrichment.Status.OK
        ).values_list("paper_id", "paper_version", "language")
    )
    jobs = []
    for paper in papers_by_importance(papers):
        for language in languages:
            if (paper.pk, paper.version, language) in done:
                report.cached += 1
            elif reach is not None and paper.pk not in reach.get(language, ()):
                report.unreached += 1
            else:
                jobs.append(_Job(paper, language))
    catalogues = {language: _catalogue(language) for language in languages}
    budget = TokenBudget(settings.LLM_DAILY_TOKEN_BUDGET - tokens_spent(day))
    gate = llm_reading_start(day=day, renew=False)  # day_enrich started it; else from now
    chunk = max(1, settings.LLM_CONCURRENCY * CHUNK_PER_SLOT)
    for start in range(0, len(jobs), chunk):
        batch = jobs[start : start + chunk]
        report.outage = report.outage or gate.closed()
        if report.outage:
            # The LLM is down (the breaker is open) or the day's deadline passed: the rest is
            # not sent to it, so the day is ready on time; the papers go out untranslated and
            # a later run reads them.
            for job in batch:
                _store(job, CallResult(error=f"not tried: {report.outage}"))
            report.failed += len(batch)
            if progress:
                progress(len(batch))
            continue
        results = asyncio.run(_answer_all(batch, catalogues, budget, gate))
        if any(r.error.startswith("not tried:") for r in results):
            report.outage = gate.closed()  # the gate closed during the batch
        for job, result in zip(batch, results, strict=True):
            outcome = _store(job, result)
            setattr(report, outcome, getattr(report, outcome) + 1)
            report.calls += result.calls
            report.tokens_in += result.tokens_in
            report.tokens_out += result.tokens_out
        calls = sum(r.calls for r in results)
        if calls:
            usage_record(
                day=day,
                model=settings.LLM_MODEL,
                purpose=LLMUsage.Purpose.ENRICH,
                tokens_in=sum(r.tokens_in for r in results),
                tokens_out=sum(r.tokens_out for r in results),
                calls=calls,
            )
        if progress:
            progress(len(batch))
    if report.outage:
        log.error("enrichment of %s stopped early: %s", day, report.outage)
    return report
