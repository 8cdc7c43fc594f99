"""arXiv's announcement feeds (RSS, or their Atom flavour): which ids a category announced on
a day, at which version, as new, cross-list or replacement (`arxiv:announce_type`); read with
defusedxml's safe ElementTree, one bad item skipped and said."""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError
from zoneinfo import ZoneInfo

import requests
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as safe_xml
from django.conf import settings

from digests.arxiv.client import polite_retry
from digests.arxiv.records import Announcement, RecordError, RecordProblem, versioned_id_split
from digests.models import AnnounceType

__all__ = ["ARXIV_TZ", "DayListing", "FeedError", "listing_fetch", "listing_parse"]

ARXIV_TZ = ZoneInfo("America/New_York")
_ANNOUNCE_TYPES = {t.value for t in AnnounceType}


class FeedError(Exception):
    """arXiv's feed for a category could not be used (unknown category, malformed feed)."""


@dataclass
class DayListing:
    category: str
    date: dt.date | None
    announcements: list[Announcement] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)  # items skipped


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
    for guid, item in items:  # one bad item is skipped, the feed's others are kept
        try:
            arxiv_id, version = versioned_id_split(guid or "")
        except RecordError as error:
            listing.problems.append(RecordProblem("", f"{category} feed: {error}"))
            continue
        announce_type = (item.findtext(f"{_ARXIV_NS}announce_type") or "new").strip()
        if announce_type not in _ANNOUNCE_TYPES:
            reason = f"{category} feed: unknown announce type {announce_type[:40]!r}"
            listing.problems.append(RecordProblem(arxiv_id, reason))
            continue
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
