"""Step 1: what arXiv announced on a day, and each paper's metadata, upserted by arXiv id.

The listing (ids, versions, announce types) comes from arXiv's announcement feeds (RSS,
`arxiv:announce_type`), the metadata from the API through the `arxiv` package.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import arxiv
import feedparser
import requests
from django.conf import settings
from django.db import transaction

from digests.models import AnnounceType, Paper

__all__ = [
    "Announcement",
    "DayListing",
    "FeedError",
    "IngestReport",
    "day_ingest",
    "listing_fetch",
    "metadata_fetch",
    "paper_upsert",
]

log = logging.getLogger(__name__)

ARXIV_TZ = ZoneInfo("America/New_York")
API_BATCH = 100
REQUEST_TIMEOUT = 30
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
    listed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def announced(self) -> bool:
        return self.listed > 0

    def summary(self) -> str:
        if not self.announced:
            return f"no announcement for {self.date or 'this day'}: nothing ingested"
        return (
            f"ingested {self.listed} papers announced {self.date}: {self.created} new, "
            f"{self.updated} updated, {self.unchanged} unchanged, {len(self.missing)} missing"
        )


def _split_versioned_id(raw: str) -> tuple[str, int]:
    match = _VERSIONED_ID.search(raw.strip())
    if not match:
        raise FeedError(f"not an arXiv id with a version: {raw!r}")
    return match.group("id"), int(match.group("v"))


def _feed_date(parsed: feedparser.FeedParserDict) -> dt.date | None:
    """The announcement day: the channel's pubDate read in arXiv's own time zone."""
    for key in ("published_parsed", "updated_parsed"):
        stamp = parsed.feed.get(key)
        if stamp:
            moment = dt.datetime(*stamp[:6], tzinfo=dt.UTC)
            return moment.astimezone(ARXIV_TZ).date()
    return None


def listing_parse(category: str, body: bytes) -> DayListing:
    """Parse one announcement feed into the day's ids, versions and announce types."""
    parsed = feedparser.parse(body)
    title = parsed.feed.get("title", "")
    if title.startswith("Feed error"):
        raise FeedError(f"arXiv has no category {category!r}: {title}")
    if parsed.bozo and not isinstance(parsed.bozo_exception, feedparser.CharacterEncodingOverride):
        # arXiv's feeds are well-formed XML; anything else is not a listing we can trust.
        raise FeedError(f"the feed for {category} is malformed: {parsed.bozo_exception}")
    listing = DayListing(category=category, date=_feed_date(parsed))
    for entry in parsed.entries:
        arxiv_id, version = _split_versioned_id(entry.get("id", ""))
        announce_type = entry.get("arxiv_announce_type", "new").strip()
        if announce_type not in _ANNOUNCE_TYPES:
            raise FeedError(f"{category}: unknown announce type {announce_type!r} for {arxiv_id}")
        listing.announcements.append(Announcement(arxiv_id, version, announce_type))
    return listing


def listing_fetch(category: str, *, session: requests.Session) -> DayListing:
    """Fetch and parse today's announcement feed of one category."""
    url = f"{settings.ARXIV_RSS_URL.rstrip('/')}/{category}"
    response = session.get(url, timeout=REQUEST_TIMEOUT)
    if response.status_code == 400:
        raise FeedError(f"arXiv rejected the category {category!r} (HTTP 400)")
    response.raise_for_status()
    return listing_parse(category, response.content)


def arxiv_client() -> arxiv.Client:
    """The `arxiv` package's client, pointed at ARXIV_API_URL and paced by ARXIV_REQUEST_DELAY."""
    client = arxiv.Client(
        page_size=API_BATCH, delay_seconds=settings.ARXIV_REQUEST_DELAY, num_retries=3
    )
    client.query_url_format = f"{settings.ARXIV_API_URL}?{{}}"
    return client


def metadata_fetch(ids: list[str], *, client: arxiv.Client) -> dict[str, arxiv.Result]:
    """The API's record of each id, fetched in batches of API_BATCH ids per request."""
    results: dict[str, arxiv.Result] = {}
    for start in range(0, len(ids), API_BATCH):
        batch = ids[start : start + API_BATCH]
        search = arxiv.Search(id_list=batch, max_results=len(batch))
        for result in client.results(search):
            arxiv_id, _ = _split_versioned_id(result.entry_id.rsplit("/abs/", 1)[-1])
            results[arxiv_id] = result
    return results


def _clean(text: str | None) -> str:
    """Collapse the API's line-wrapping whitespace; the text stays plain text."""
    return " ".join((text or "").split())


def _paper_fields(result: arxiv.Result) -> dict:
    return {
        "title": _clean(result.title),
        "abstract": _clean(result.summary),
        "authors": [
            {"name": _clean(a.name), "affiliations": [_clean(x) for x in a.affiliation]}
            for a in result.authors
        ],
        "categories": list(result.categories),
        "primary_category": result.primary_category,
        "comment": _clean(result.comment),
        "journal_ref": _clean(result.journal_ref),
        "doi": _clean(result.doi),
        "published": result.published,
        "updated": result.updated,
    }


@transaction.atomic
def paper_upsert(
    *, announcement: Announcement, result: arxiv.Result, day: dt.date
) -> tuple[Paper, str]:
    """Create or update the paper; return it with "created", "updated" or "unchanged"."""
    fields = _paper_fields(result)
    fields.update(announce_date=day, announce_type=announcement.announce_type)
    paper = Paper.objects.select_for_update().filter(arxiv_id=announcement.arxiv_id).first()
    if paper is None:
        paper = Paper.objects.create(
            arxiv_id=announcement.arxiv_id, version=announcement.version, **fields
        )
        return paper, "created"
    if paper.version == announcement.version and paper.announce_date == day:
        return paper, "unchanged"
    if announcement.version > paper.version:
        paper.version_history = [*paper.version_history, paper.version]
        paper.version = announcement.version
    for name, value in fields.items():
        setattr(paper, name, value)
    paper.save()
    return paper, "updated"


def day_ingest(
    *,
    categories: Iterable[str],
    date: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest the current announcement of every category; `date` guards against a stale feed."""
    session = requests.Session()
    merged: dict[str, Announcement] = {}
    day: dt.date | None = None
    for category in sorted(set(categories)):
        listing = listing_fetch(category, session=session)
        if not listing.announcements:
            continue
        if date is not None and listing.date != date:
            log.warning(
                "%s feed holds the announcement of %s, not %s", category, listing.date, date
            )
            continue
        day = listing.date
        for announcement in listing.announcements:
            # A paper listed as new in its primary category and cross in another: keep "new".
            known = merged.get(announcement.arxiv_id)
            if known is None or known.announce_type.endswith("cross"):
                merged[announcement.arxiv_id] = announcement
    report = IngestReport(date=day or date, listed=len(merged))
    if not merged:
        return report
    results = metadata_fetch(sorted(merged), client=arxiv_client())
    for arxiv_id, announcement in merged.items():
        result = results.get(arxiv_id)
        if result is None:
            report.missing.append(arxiv_id)
            continue
        _, outcome = paper_upsert(announcement=announcement, result=result, day=day)
        setattr(report, outcome, getattr(report, outcome) + 1)
        if progress:
            progress(1)
    return report
