"""Step 1: what arXiv announced on a day, and each paper's metadata, upserted by arXiv id.

The listing (ids, versions, announce types) comes from arXiv's announcement feeds
(`digests.arxiv.feeds`), the metadata from the API through the `arxiv` package; then, for an
issue day, bioRxiv's and medRxiv's postings of the subjects wanted (`digests.biorxiv`).
Every request goes through one polite session: paced, with a timeout, retried on transient
failures.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import arxiv
import requests
from django.conf import settings
from django.utils import timezone

from digests.arxiv.client import ArxivUnavailable, PoliteSession, polite_retry
from digests.arxiv.feeds import ARXIV_TZ, DayListing, FeedError, listing_fetch, listing_parse
from digests.arxiv.records import (
    Announcement,
    RecordError,
    RecordProblem,
    paper_fields,
    papers_upsert,
    versioned_id_split,
)
from digests.biorxiv.ingest import PreprintReport, preprints_ingest
from digests.biorxiv.subjects import server_of
from digests.models import IngestDay, Paper

__all__ = [
    "ALL_ARCHIVES",
    "API_BATCH",
    "ARXIV_TZ",
    "Announcement",
    "DayListing",
    "FeedError",
    "IngestReport",
    "arxiv_client",
    "day_ingest",
    "listing_fetch",
    "listing_parse",
    "metadata_fetch",
    "papers_upsert",
]

log = logging.getLogger(__name__)

# arXiv's combined feed of its 20 archives: every paper of the day in one request.
ALL_ARCHIVES = (
    "astro-ph+cond-mat+physics+quant-ph+math+cs+econ+eess+gr-qc+hep-ex+hep-lat+hep-ph+hep-th"
    "+math-ph+nlin+nucl-ex+nucl-th+q-bio+q-fin+stat"
)
API_BATCH = 100


@dataclass
class IngestReport:
    date: dt.date | None
    status: str = IngestDay.Status.NONE
    listed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    api_requests: int = 0
    missing: list[str] = field(default_factory=list)
    rejected_categories: list[str] = field(default_factory=list)
    skipped: list[RecordProblem] = field(default_factory=list)  # records not stored, and why
    repaired: list[RecordProblem] = field(default_factory=list)  # fields bounded or dropped
    note: str = ""
    preprints: PreprintReport | None = None  # bioRxiv and medRxiv, read for an issue day

    @property
    def announced(self) -> bool:
        return self.status == IngestDay.Status.ANNOUNCED

    def summary(self) -> str:
        if self.status == IngestDay.Status.STALE:
            return f"stale feed for {self.date}: {self.note}"
        if not self.announced:
            return f"no announcement for {self.date or 'this day'}: nothing ingested"
        preprints = f"; {self.preprints.summary()}" if self.preprints else ""
        return (
            f"ingested {self.listed} papers announced {self.date}: {self.created} new, "
            f"{self.updated} changed, {self.unchanged} unchanged, {len(self.missing)} missing, "
            f"{len(self.skipped)} skipped as invalid ({self.api_requests} API requests)"
            f"{preprints}"
        )


def arxiv_client(session: requests.Session) -> arxiv.Client:
    """The `arxiv` package's client on our session, pointed at ARXIV_API_URL.

    Its own pause and retries are off: the session paces every request to arXiv (feeds and API
    alike) and `polite_retry` retries with backoff.
    """
    client = arxiv.Client(page_size=API_BATCH, delay_seconds=0, num_retries=0)
    client.query_url_format = f"{settings.ARXIV_API_URL}?{{}}"
    client._session = session  # the one paced, time-limited connection
    return client


def _batch_fetch(
    client: arxiv.Client, batch: list[str], problems: list[RecordProblem]
) -> list[arxiv.Result]:
    """One request for the batch; a response the `arxiv` parser cannot read (one record's
    unreadable date fails the whole page) is asked again in halves, down to the bad id."""

    @polite_retry()
    def fetch() -> list[arxiv.Result]:
        return list(client.results(arxiv.Search(id_list=batch, max_results=len(batch))))

    try:
        return fetch()
    except (ValueError, TypeError, AttributeError) as error:  # the parser's, never transient
        if len(batch) == 1:
            reason = f"the API's record is unreadable: {type(error).__name__}: {error}"[:300]
            problems.append(RecordProblem(batch[0], reason))
            return []
        half = len(batch) // 2
        return _batch_fetch(client, batch[:half], problems) + _batch_fetch(
            client, batch[half:], problems
        )


def metadata_fetch(
    ids: list[str],
    *,
    client: arxiv.Client,
    on_batch: Callable[[dict[str, arxiv.Result]], None] | None = None,
    problems: list[RecordProblem] | None = None,
) -> dict[str, arxiv.Result]:
    """The API's record of each id, fetched in batches of API_BATCH ids, one request each;
    the records that cannot be read are left out and said in `problems`."""
    results: dict[str, arxiv.Result] = {}
    problems = problems if problems is not None else []
    for start in range(0, len(ids), API_BATCH):
        batch = ids[start : start + API_BATCH]
        found: dict[str, arxiv.Result] = {}
        for result in _batch_fetch(client, batch, problems):
            try:
                arxiv_id, _ = versioned_id_split(str(result.entry_id).rsplit("/abs/", 1)[-1])
            except RecordError as error:
                problems.append(RecordProblem("", f"API record: {error}"))
                continue
            if arxiv_id in batch:  # an answer for an id not asked for is not ours to store
                found[arxiv_id] = result
        results.update(found)
        if on_batch:
            on_batch(found)  # stored batch by batch: a run cut short resumes where it stopped
    return results


def _paper_fields(result: arxiv.Result) -> dict:
    """The record's fields, bounded (for a seed paper, `digests.arxiv.seeds`)."""
    return paper_fields(result, require_title=False)[0]


def _merge(listings: Iterable[DayListing]) -> dict[str, Announcement]:
    """One announcement per paper: its own category's (new/replace) wins over a cross-list."""
    merged: dict[str, Announcement] = {}
    for listing in listings:
        for announcement in listing.announcements:
            known = merged.get(announcement.arxiv_id)
            if known is None or known.announce_type.endswith("cross"):
                merged[announcement.arxiv_id] = announcement
    return merged


def _is_stale(day: dt.date, merged: dict[str, Announcement]) -> str:
    """Why the feeds repeat the previous announcement under a new date, or "" if they don't."""
    previous = (
        IngestDay.objects.filter(status=IngestDay.Status.ANNOUNCED, date__lt=day)
        .order_by("-date")
        .first()
    )
    if previous is None:
        return ""
    earlier = set(
        Paper.objects.filter(announce_date=previous.date, arxiv_id__in=list(merged)).values_list(
            "arxiv_id", "version"
        )
    )
    listed = {(a.arxiv_id, a.version) for a in merged.values()}
    if listed and listed <= earlier:
        return f"the feeds dated {day} list the {len(listed)} papers announced on {previous.date}"
    return ""


def _record(report: IngestReport, categories: list[str], started: dt.datetime) -> None:
    if report.date is None:
        return
    IngestDay.objects.update_or_create(
        date=report.date,
        defaults={
            "status": report.status,
            "categories": categories,
            "listed": report.listed,
            "created": report.created,
            "updated": report.updated,
            "api_requests": report.api_requests,
            "note": report.note,
            "skipped": [problem.as_json() for problem in report.skipped],
            "repaired": [problem.as_json() for problem in report.repaired],
            "started_at": started,
            "finished_at": timezone.now(),
        },
    )


def day_ingest(
    *,
    categories: Iterable[str],
    date: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
    session: PoliteSession | None = None,
) -> IngestReport:
    """Ingest the current announcement of every category and record what the day was; then,
    for an issue day, the bioRxiv and medRxiv subjects among `categories` (`biorxiv:…`).

    `date`, when given, is the announcement day expected: feeds still dated earlier are stale.
    A category arXiv rejects is reported and skipped; the others are ingested.
    """
    requested = set(categories)
    subjects = {code for code in requested if server_of(code)}
    report = _arxiv_ingest(
        categories=requested - subjects, date=date, progress=progress, session=session
    )
    if subjects and not (requested - subjects):  # only preprints: every weekday is an issue
        report = _weekday_issue(date)
    if subjects and report.announced and report.date is not None:
        report.preprints = preprints_ingest(day=report.date, categories=subjects)
    return report


def _weekday_issue(date: dt.date | None) -> IngestReport:
    """The issue day when no arXiv category is read: every weekday, as arXiv's would be."""
    started = timezone.now()
    day = date or timezone.now().astimezone(ARXIV_TZ).date()
    report = IngestReport(date=day)
    if day.weekday() < 5:
        report.status = IngestDay.Status.ANNOUNCED
        report.note = "no arXiv category is read: an issue day of the preprint servers"
    else:
        report.note = "a weekend: no issue"
    _record(report, [], started)
    return report


def _arxiv_ingest(
    *,
    categories: Iterable[str],
    date: dt.date | None,
    progress: Callable[[int], None] | None,
    session: PoliteSession | None,
) -> IngestReport:
    started = timezone.now()
    wanted = sorted(set(categories))
    if not wanted:
        return IngestReport(date=date)
    session = session or PoliteSession()
    listings: list[DayListing] = []
    report = IngestReport(date=date)
    for category in wanted:
        try:
            listings.append(listing_fetch(category, session=session))
        except FeedError as error:
            log.error("%s", error)
            report.rejected_categories.append(category)
            report.note += f"{error}\n"
    dated = [lst for lst in listings if lst.announcements]
    feed_dates = {lst.date for lst in dated if lst.date is not None}
    feed_day = max(feed_dates) if feed_dates else None
    report.date = date or feed_day or timezone.now().astimezone(ARXIV_TZ).date()
    if feed_day is None:
        report.note += "the announcement feeds have no item: no announcement"
        _record(report, wanted, started)
        return report
    if date is not None and feed_day != date:
        report.status = IngestDay.Status.STALE if feed_day < date else IngestDay.Status.NONE
        report.note += f"the feeds hold the announcement of {feed_day}, not of {date}"
        if report.status == IngestDay.Status.STALE or not IngestDay.objects.filter(date=date):
            _record(report, wanted, started)
        return report
    merged = _merge(lst for lst in dated if lst.date == feed_day)
    report.listed = len(merged)
    stale = _is_stale(feed_day, merged)
    if stale:
        report.status = IngestDay.Status.STALE
        report.note += stale
        _record(report, wanted, started)
        return report

    report.skipped.extend(p for lst in listings for p in lst.problems)

    def store(batch: dict[str, arxiv.Result]) -> None:
        outcome = papers_upsert(announcements=merged, results=batch, day=feed_day)
        report.created += outcome.created
        report.updated += outcome.updated
        report.unchanged += outcome.unchanged
        report.skipped.extend(outcome.skipped)
        report.repaired.extend(outcome.repaired)
        if progress:
            progress(len(batch))

    before = session.request_count
    unreadable: list[RecordProblem] = []
    try:
        results = metadata_fetch(
            sorted(merged), client=arxiv_client(session), on_batch=store, problems=unreadable
        )
    except ArxivUnavailable as error:
        _record_failure(report, wanted, started, error)
        raise  # the task tries the day again later; what was stored stays
    report.api_requests = session.request_count - before
    report.skipped.extend(unreadable)
    report.missing = sorted(set(merged) - set(results) - {p.arxiv_id for p in unreadable})
    report.status = IngestDay.Status.ANNOUNCED
    if report.missing:
        report.note += f"not found in the API: {', '.join(report.missing)}"
    if report.skipped:
        report.note += f"\n{len(report.skipped)} records skipped as invalid (see skipped)"
    _record(report, wanted, started)
    return report


def _record_failure(
    report: IngestReport, categories: list[str], started: dt.datetime, error: Exception
) -> None:
    """Say on the day that arXiv failed mid-way, unless the day was already ingested."""
    if report.date is None or IngestDay.objects.filter(
        date=report.date, status=IngestDay.Status.ANNOUNCED
    ):
        return
    report.status = IngestDay.Status.FAILED
    report.note += f"{error}; tried again later"
    _record(report, categories, started)
