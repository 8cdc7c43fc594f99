"""The daily pipeline as plain functions: who needs which categories, who is due, and the run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from digests.arxiv.affiliations import affiliations_fill, affiliations_needed
from digests.arxiv.seeds import seeds_missing_fetch
from digests.authors import author_index_refresh
from digests.biorxiv.subjects import server_of
from digests.brief import BriefReport, briefs_write
from digests.delivery import cards_warm
from digests.enrich import (
    EnrichReport,
    enrich_languages,
    lexical_enrich,
    papers_by_importance,
    papers_enrich,
)
from digests.fanout import SEND_TRIES, SendReport, chunk_send, id_chunks, subscriber_ids_due
from digests.ingest import ALL_ARCHIVES, ARXIV_TZ, IngestReport, day_ingest
from digests.llm.breaker import llm_reading_start
from digests.llm.calls import llm_enabled
from digests.llm.embeddings import papers_embed
from digests.models import IngestDay, Paper, PipelineStep, Topic
from digests.models.paper import announced_between
from digests.models.run import StepTimer, step_recorded
from digests.reach import papers_in_reach
from digests.readings import latest_issue_date
from digests.scoring.inputs import profile_rows, readers_keywords
from digests.scoring.keyword_index import keywords_prepare
from digests.scoring.semantic import papers_semantic_prepare
from digests.scoring.text_terms import papers_terms_prepare
from digests.versions import changes_enrich
from subscribers.models import InterestProfile, Subscriber

__all__ = [
    "SendReport",
    "announcement_ingest_until",
    "categories_needed",
    "daily_run",
    "day_affiliations_read",
    "day_enrich",
    "digests_send",
    "subscribers_due",
]


def categories_needed() -> set[str]:
    """What ingestion reads, by ARXIV_CATEGORIES: its codes, every archive ("all"), or ("auto")
    the categories active profiles and the topics they follow name, plus the categories
    inferred for the profiles that name none; every archive when inference has nothing to go
    on for one of them (no papers yet, a text about what we hold no paper of, authors only).
    The bioRxiv and medRxiv subjects (`biorxiv:neuroscience`) named are read in every mode."""
    mode = settings.ARXIV_CATEGORIES
    if mode != "auto" and mode != "all":
        return set(mode)
    active = InterestProfile.objects.filter(subscriber__status=Subscriber.Status.ACTIVE)
    needed: set[str] = set()
    for categories in active.values_list("categories", flat=True):
        needed.update(categories)
    topics = Topic.objects.filter(profiles__in=active).distinct()
    for categories in topics.values_list("categories", flat=True):
        needed.update(categories)
    # bioRxiv and medRxiv subjects are read as readers need them, whatever the mode
    preprints = {code for code in needed if server_of(code)}
    if mode == "all":
        return {ALL_ARCHIVES, *preprints}
    unnamed = _profiles_naming_no_category(active)
    for start in range(0, len(unnamed), INFER_CHUNK):
        for row in profile_rows(unnamed[start : start + INFER_CHUNK], embed_interests=False):
            if not row.inferred_categories:
                return {ALL_ARCHIVES, *preprints}
            needed.update(row.inferred_categories)
    return needed


INFER_CHUNK = 2000


def _profiles_naming_no_category(active: QuerySet[InterestProfile]) -> list[Subscriber]:
    """Active readers whose profile names no category, nor follows a topic that names one."""
    naming = Topic.objects.exclude(categories=[]).values("pk")
    return list(
        Subscriber.objects.filter(profile__in=active.filter(categories=[]))
        .exclude(profile__topics__in=naming)
        .select_related("profile")
        .prefetch_related("profile__topics")
        .order_by("pk")
    )


def subscribers_due(*, at: dt.datetime, issue_date: dt.date) -> QuerySet[Subscriber]:
    """Active subscribers whose digest of `issue_date` is due at `at` (see subscriber_ids_due)."""
    return Subscriber.objects.filter(pk__in=subscriber_ids_due(at=at, issue_date=issue_date))


def digests_send(
    *,
    issue_date: dt.date | None,
    everyone: bool = False,
    at: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> SendReport:
    """Assemble and send, in the foreground, the digest of `issue_date` to every subscriber due
    (or `everyone`), chunk after chunk, as the workers would share it."""
    report = SendReport(issue_date=issue_date)
    if issue_date is None:
        return report
    if everyone:
        active = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).order_by("pk")
        ids = list(active.values_list("pk", flat=True))
    else:
        ids = subscriber_ids_due(at=at or timezone.now(), issue_date=issue_date)
    for chunk in id_chunks(ids, settings.SEND_CHUNK_SIZE):
        report.add(
            chunk_send(
                issue_date=issue_date, subscriber_ids=chunk, tries=SEND_TRIES, progress=progress
            )
        )
    return report


def announcement_ingest_until(*, now: dt.datetime) -> tuple[IngestReport, bool]:
    """Ingest the current announcement; say whether a stale feed should be tried again.

    A stale feed is retried until ARXIV_RETRY_UNTIL (UTC); then the day is skipped and its
    IngestDay row says why, for staff.
    """
    with step_recorded(step=PipelineStep.INGEST, day=_arxiv_today()) as timer:
        report = day_ingest(categories=categories_needed())
        _timer_ingest(timer, report)
    if report.status != IngestDay.Status.STALE:
        return report, False
    if now.astimezone(dt.UTC).time() < settings.ARXIV_RETRY_UNTIL:
        return report, True
    note = f"{report.note}; skipped: still stale at {settings.ARXIV_RETRY_UNTIL:%H:%M} UTC"
    if report.date is not None:
        IngestDay.objects.filter(date=report.date).update(note=note)
    report.note = note
    return report, False


def day_enrich(
    *, date: dt.date, progress: Callable[[int], None] | None = None
) -> tuple[EnrichReport, BriefReport]:
    """Step 2 for one announcement day: every paper once per language, then the briefs."""
    with step_recorded(step=PipelineStep.ENRICH, day=date) as timer:
        papers = list(Paper.objects.filter(announce_date=date))
        languages = enrich_languages()
        lexical_enrich(papers)  # what every paper shows, and what readers are first scored by
        papers_semantic_prepare(papers)  # each scoring run reads the vectors, not the abstracts
        papers_terms_prepare(papers)  # and their stems and term counts, not stemmed again
        # and where they hold the readers' keywords (in the papers a daily digest scores)
        keywords_prepare(
            list(Paper.objects.filter(announced_between(date, date))), readers_keywords()
        )
        # Before translation and scoring: translated with the paper, matched by followed
        # institutions (the pages take ARXIV_REQUEST_DELAY each, outside the LLM's deadline).
        day_affiliations_read(papers, day=date)
        llm_reading_start(day=date)  # the deadline of the day's LLM calls runs from here
        papers_embed(papers, day=date)  # (scoring reads embeddings when configured)
        reach = papers_in_reach(papers, day=date) if llm_enabled() else None
        enriched = papers_enrich(
            papers=papers, languages=languages, day=date, progress=progress, reach=reach
        )
        changes_enrich(papers, day=date)  # what a new version changed, for readers of the old
        # the day's cards compiled once for every worker (with a cache they share)
        warmed = cards_warm(day=date, papers=papers, languages=languages)
        _timer_note(
            timer, enriched, "papers", "enriched", "cached", "failed", "skipped", "unreached",
            "calls", "tokens_in", "tokens_out",
        )  # fmt: skip
        timer.run.counts["cards"] = warmed
    with step_recorded(step=PipelineStep.BRIEFS, day=date) as timer:
        briefs = briefs_write(date=date, languages=languages)
        _timer_note(timer, briefs, "written", "cached", "failed", "calls")
    IngestDay.objects.filter(date=date, ready_at=None).update(ready_at=timezone.now())
    author_index_refresh()  # so the first reader of the new authors' pages does not wait for it
    return enriched, briefs


def day_affiliations_read(papers: list[Paper], *, day: dt.date) -> int:
    """Read the HTML pages of the day's papers whose affiliations we lack: first those some
    reader will be shown (always all of them), then the others, the most followed first, up
    to ARXIV_HTML_PAGES more pages, so a followed institution can bring in a paper that
    nothing else would. Return how many pages were read."""
    papers = [p for p in papers if p.is_arxiv]  # the others' records give their affiliation
    if not any(affiliations_needed(p) for p in papers):
        return 0
    reach = papers_in_reach(papers, day=day)
    shown = set().union(*reach.values()) if reach else set()
    first = [p for p in papers if p.pk in shown]
    others = [p for p in papers_by_importance(papers) if p.pk not in shown]
    wanted = sum(affiliations_needed(p) for p in first)
    return affiliations_fill([*first, *others], limit=wanted + settings.ARXIV_HTML_PAGES)


def daily_run(
    *,
    date: dt.date | None = None,
    ingest_progress: Callable[[int], None] | None = None,
    send_progress: Callable[[int], None] | None = None,
) -> tuple[IngestReport, SendReport]:
    """Ingest the day's announcement, then send its digest to every active subscriber.

    A day ingested earlier (run twice, or arXiv has moved on since) is sent from what we hold.
    """
    with step_recorded(step=PipelineStep.INGEST, day=date or _arxiv_today()) as timer:
        ingest = day_ingest(categories=categories_needed(), date=date, progress=ingest_progress)
        _timer_ingest(timer, ingest)
    issue_date = ingest.date if ingest.announced else None
    if issue_date is None and date is not None and latest_issue_date(date) == date:
        issue_date = date  # ingested by an earlier run
    if issue_date is not None:
        seeds_missing_fetch()  # before scoring (and the LLM's reach): the seeds we lack
        day_enrich(date=issue_date)
    send = digests_send(issue_date=issue_date, everyone=True, progress=send_progress)
    return ingest, send


# Step timings for the staff dashboard: recorded around the steps, never changing what they do.


def _arxiv_today() -> dt.date:
    """The day an ingestion is filed under until its feeds say which announcement it was."""
    return timezone.now().astimezone(ARXIV_TZ).date()


def _timer_note(timer: StepTimer, report: object, *names: str, idle: bool = False) -> None:
    timer.run.counts = {name: getattr(report, name) for name in names}
    timer.idle = idle


def _timer_ingest(timer: StepTimer, report: IngestReport) -> None:
    if report.date is not None:
        timer.run.day = report.date
    _timer_note(timer, report, "status", "listed", "created", "updated", "unchanged")
    timer.run.note = report.note[:2000]
