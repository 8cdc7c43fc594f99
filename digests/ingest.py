"""Step 1: what arXiv announced on a day, and each paper's metadata, upserted by arXiv id.

The listing (ids, versions, announce types) comes from arXiv's announcement feeds (RSS,
`arxiv:announce_type`, read with defusedxml's safe ElementTree), the metadata from the API
through the `arxiv` package. Every request goes through one PoliteSession: paced, with a
timeout, retried on transient failures.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError
from zoneinfo import ZoneInfo

import arxiv
import requests
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as safe_xml
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from digests.arxiv.client import PoliteSession, polite_retry
from digests.models import AnnounceType, IngestDay, Paper
from digests.text import clean_text

__all__ = [
    "ALL_ARCHIVES",
    "API_BATCH",
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

ARXIV_TZ = ZoneInfo("America/New_York")
# arXiv's combined feed of its 20 archives: every paper of the day in one request.
ALL_ARCHIVES = (
    "astro-ph+cond-mat+physics+quant-ph+math+cs+econ+eess+gr-qc+hep-ex+hep-lat+hep-ph+hep-th"
    "+math-ph+nlin+nucl-ex+nucl-th+q-bio+q-fin+stat"
)
API_BATCH = 100
_VERSIONED_ID = re.compile(r"(?P<id>(?:[a-z-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5}))v(?P<v>\d+)$")
_ANNOUNCE_TYPES = {t.value for t in AnnounceType}


class FeedError(Exception):
    """arXiv's feed for a category could not be used (unknown category, malformed feed)."""


@dataclass(frozen=True)
class Announcement:
    arxiv_id: str
    version: int
    announce_type: str


@dataclass
class DayListing:
    category: str
    date: dt.date | None
    announcements: list[Announcement] = field(default_factory=list)


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
    note: str = ""

    @property
    def announced(self) -> bool:
        return self.status == IngestDay.Status.ANNOUNCED

    def summary(self) -> str:
        if self.status == IngestDay.Status.STALE:
            return f"stale feed for {self.date}: {self.note}"
        if not self.announced:
            return f"no announcement for {self.date or 'this day'}: nothing ingested"
        return (
            f"ingested {self.listed} papers announced {self.date}: {self.created} new, "
            f"{self.updated} changed, {self.unchanged} unchanged, {len(self.missing)} missing "
            f"({self.api_requests} API requests)"
        )


def _split_versioned_id(raw: str) -> tuple[str, int]:
    match = _VERSIONED_ID.search(raw.strip())
    if not match:
        raise FeedError(f"not an arXiv id with a version: {raw!r}")
    return match.group("id"), int(match.group("v"))


_ARXIV_NS = "{http://arxiv.org/schemas/atom}"
_ATOM_NS = "{http://www.w3.org/2005/Atom}"


def _channel_date(text: str | None) -> dt.date | None:
    """The announcement day: the channel's date read in arXiv's own time zone."""
    if not text:
        return None
    text = text.strip()
    try:
        moment = email.utils.parsedate_to_datetime(text)  # RSS: RFC 822
    except (TypeError, ValueError):
        try:
            moment = dt.datetime.fromisoformat(text)  # Atom: ISO 8601
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ARXIV_TZ).date()


def listing_parse(category: str, body: bytes) -> DayListing:
    """Parse one announcement feed (RSS, or its Atom flavour) into ids, versions and types."""
    try:
        root = safe_xml.fromstring(body)
    except (ParseError, DefusedXmlException) as error:
        raise FeedError(f"the feed for {category} is malformed: {error}") from None
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise FeedError(f"the feed for {category} is malformed: no channel")
        title = channel.findtext("title", "")
        date_text = channel.findtext("pubDate") or channel.findtext("lastBuildDate")
        items = [(item.findtext("guid", ""), item) for item in channel.iter("item")]
    elif root.tag == f"{_ATOM_NS}feed":
        title = root.findtext(f"{_ATOM_NS}title", "")
        date_text = root.findtext(f"{_ATOM_NS}updated")
        items = [(e.findtext(f"{_ATOM_NS}id", ""), e) for e in root.iter(f"{_ATOM_NS}entry")]
    else:
        raise FeedError(f"the feed for {category} is malformed: unexpected <{root.tag}>")
    if title.startswith("Feed error"):
        raise FeedError(f"arXiv has no category {category!r}: {title}")
    listing = DayListing(category=category, date=_channel_date(date_text))
    for guid, item in items:
        arxiv_id, version = _split_versioned_id(guid)
        announce_type = (item.findtext(f"{_ARXIV_NS}announce_type") or "new").strip()
        if announce_type not in _ANNOUNCE_TYPES:
            raise FeedError(f"{category}: unknown announce type {announce_type!r} for {arxiv_id}")
        listing.announcements.append(Announcement(arxiv_id, version, announce_type))
    return listing


def listing_fetch(category: str, *, session: requests.Session) -> DayListing:
    """Fetch and parse today's announcement feed of one category."""
    url = f"{settings.ARXIV_RSS_URL.rstrip('/')}/{category}"

    @polite_retry()
    def fetch() -> bytes:
        response = session.get(url)
        if response.status_code == 400:
            raise FeedError(f"arXiv rejected the category {category!r} (HTTP 400)")
        response.raise_for_status()
        return response.content

    return listing_parse(category, fetch())


def arxiv_client(session: requests.Session) -> arxiv.Client:
    """The `arxiv` package's client on our session, pointed at ARXIV_API_URL.

    Its own pause and retries are off: the session paces every request to arXiv (feeds and API
    alike) and `polite_retry` retries with backoff.
    """
    client = arxiv.Client(page_size=API_BATCH, delay_seconds=0, num_retries=0)
    client.query_url_format = f"{settings.ARXIV_API_URL}?{{}}"
    client._session = session  # the one paced, time-limited connection
    return client


def metadata_fetch(
    ids: list[str],
    *,
    client: arxiv.Client,
    on_batch: Callable[[dict[str, arxiv.Result]], None] | None = None,
) -> dict[str, arxiv.Result]:
    """The API's record of each id, fetched in batches of API_BATCH ids, one request each."""
    results: dict[str, arxiv.Result] = {}
    for start in range(0, len(ids), API_BATCH):
        batch = ids[start : start + API_BATCH]

        @polite_retry()
        def fetch(batch: list[str] = batch) -> list[arxiv.Result]:
            return list(client.results(arxiv.Search(id_list=batch, max_results=len(batch))))

        found: dict[str, arxiv.Result] = {}
        for result in fetch():
            arxiv_id, _ = _split_versioned_id(result.entry_id.rsplit("/abs/", 1)[-1])
            found[arxiv_id] = result
        results.update(found)
        if on_batch:
            on_batch(found)  # stored batch by batch: a run cut short resumes where it stopped
    return results


def _paper_fields(result: arxiv.Result) -> dict:
    return {
        "title": clean_text(result.title),
        "abstract": clean_text(result.summary),
        "authors": [
            {"name": clean_text(a.name), "affiliations": [clean_text(x) for x in a.affiliation]}
            for a in result.authors
        ],
        "categories": list(result.categories),
        "primary_category": result.primary_category,
        "comment": clean_text(result.comment),
        "journal_ref": clean_text(result.journal_ref),
        "doi": clean_text(result.doi),
        "published": result.published,
        "updated": result.updated,
    }


def _paper_apply(paper: Paper, announcement: Announcement, fields: dict) -> str:
    """Bring an existing row up to date; return "updated" or "unchanged"."""
    if announcement.version > paper.version:
        paper.version_history = [*paper.version_history, paper.version]
        paper.version = announcement.version
    elif all(getattr(paper, name) == value for name, value in fields.items()):
        return "unchanged"
    for name, value in fields.items():
        setattr(paper, name, value)
    return "updated"


_UPDATABLE = [
    "version", "version_history", "title", "abstract", "authors", "categories",
    "primary_category", "comment", "journal_ref", "doi", "published", "updated",
    "announce_date", "announce_type", "updated_at",
]  # fmt: skip


@transaction.atomic
def papers_upsert(
    *, announcements: dict[str, Announcement], results: dict[str, arxiv.Result], day: dt.date
) -> dict[str, int]:
    """Create or update a batch of papers in one transaction; count each outcome."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = Paper.objects.select_for_update().in_bulk(list(results), field_name="arxiv_id")
    new, changed = [], []
    now = timezone.now()
    for arxiv_id, result in results.items():
        announcement = announcements[arxiv_id]
        fields = _paper_fields(result)
        fields.update(announce_date=day, announce_type=announcement.announce_type)
        paper = existing.get(arxiv_id)
        if paper is None:
            new.append(Paper(arxiv_id=arxiv_id, version=announcement.version, **fields))
            counts["created"] += 1
            continue
        outcome = _paper_apply(paper, announcement, fields)
        counts[outcome] += 1
        if outcome == "updated":
            paper.updated_at = now
            changed.append(paper)
    Paper.objects.bulk_create(new, batch_size=500)
    Paper.objects.bulk_update(changed, _UPDATABLE, batch_size=500)
    return counts


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
    """Ingest the current announcement of every category and record what the day was.

    `date`, when given, is the announcement day expected: feeds still dated earlier are stale.
    A category arXiv rejects is reported and skipped; the others are ingested.
    """
    started = timezone.now()
    session = session or PoliteSession()
    wanted = sorted(set(categories))
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

    def store(batch: dict[str, arxiv.Result]) -> None:
        counts = papers_upsert(announcements=merged, results=batch, day=feed_day)
        for outcome, number in counts.items():
            setattr(report, outcome, getattr(report, outcome) + number)
        if progress:
            progress(len(batch))

    before = session.request_count
    results = metadata_fetch(sorted(merged), client=arxiv_client(session), on_batch=store)
    report.api_requests = session.request_count - before
    report.missing = sorted(set(merged) - set(results))
    report.status = IngestDay.Status.ANNOUNCED
    if report.missing:
        report.note += f"not found in the API: {', '.join(report.missing)}"
    _record(report, wanted, started)
    return report
