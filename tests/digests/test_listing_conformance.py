"""The announcement-feed parser against real arXiv feeds, read in place from ../shared."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from digests.ingest import FeedError, listing_parse
from tests.conftest import DEMO_DAY


@pytest.fixture
def parse(shared_recordings):
    def parse(name: str, category: str):
        return listing_parse(category, (shared_recordings / name).read_bytes())

    return parse


@pytest.mark.parametrize(
    ("name", "category", "date", "counts"),
    [
        (
            "arxiv-rss-stat-2024-03-26.xml",
            "stat",
            dt.date(2024, 3, 26),
            {"new": 35, "cross": 27, "replace": 41, "replace-cross": 20},
        ),
        (
            "arxiv-rss-quant-ph-2025-04-28.xml",
            "quant-ph",
            dt.date(2025, 4, 28),
            {"new": 40, "cross": 10, "replace": 22, "replace-cross": 9},
        ),
        (
            "arxiv-rss-all-archives-2024-11-28.xml",
            "astro-ph+cond-mat",
            dt.date(2024, 11, 28),
            {"new": 926, "cross": 9, "replace": 569},
        ),
    ],
)
def test_whole_day_feeds_give_every_item_with_its_announce_type(
    parse, name, category, date, counts
):
    listing = parse(name, category)
    assert listing.date == date
    assert Counter(a.announce_type for a in listing.announcements) == counts


def test_ids_and_versions_come_from_the_guid(parse):
    listing = parse("arxiv-rss-quant-ph-2025-04-28.xml", "quant-ph")
    first = listing.announcements[0]
    assert first.arxiv_id.count(".") == 1 and first.arxiv_id[:4].isdigit()
    assert first.version >= 1
    replaced = [a for a in listing.announcements if a.announce_type == "replace"]
    assert all(a.version >= 2 for a in replaced)


@pytest.mark.parametrize(
    "name",
    [
        "arxiv-rss-cs-empty-2026-03-29.xml",
        "arxiv-rss-test-archive-empty-2024-11-28.xml",
        "arxiv-atomfeed-cs-empty-2025-11-23.xml",
    ],
)
def test_a_day_without_announcement_has_no_items(parse, name):
    assert parse(name, "cs").announcements == []


def test_the_error_feed_of_an_unknown_archive_names_it(parse):
    with pytest.raises(FeedError, match="astroph"):
        parse("arxiv-rss-error-bad-archive-astroph-2024-11-28.xml", "astroph")


def test_malformed_feed_is_a_clear_error():
    with pytest.raises(FeedError, match="malformed"):
        listing_parse("cs.CL", b"<rss><channel><item><title>broken")


def test_the_shipped_demo_day_is_in_the_same_format():
    listing = listing_parse("cs.CL", (DEMO_DAY / "rss" / "cs.CL.xml").read_bytes())
    assert listing.date == dt.date(2026, 6, 18)
    assert Counter(a.announce_type for a in listing.announcements) == {
        "new": 4,
        "cross": 3,
        "replace": 2,
        "replace-cross": 2,
    }
