"""When things happen: the beat schedule, stale retries, and next-morning delivery everywhere."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from digests.assemble import digest_assemble
from digests.daily import announcement_ingest_until, subscribers_due
from digests.models import Digest, IngestDay
from newsletter.beat import BEAT_SCHEDULE
from newsletter.celery import app
from tests.factories import make_paper, make_subscriber

DAY = dt.date(2026, 6, 18)
UTC = dt.UTC


def _ingested(at: dt.datetime) -> IngestDay:
    return IngestDay.objects.create(
        date=DAY, status=IngestDay.Status.ANNOUNCED, started_at=at, finished_at=at, ready_at=at
    )


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    assert {entry["task"] for entry in BEAT_SCHEDULE.values()} <= set(app.tasks)
    ingest = BEAT_SCHEDULE["ingest-announcement"]["schedule"]
    # Monday to Friday only, after the feeds' rebuild at midnight US Eastern (04:00/05:00 UTC)
    assert ingest.day_of_week == {1, 2, 3, 4, 5}
    assert ingest.hour == {5}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "delivery", "now_utc", "due"),
    [
        # ingested Thursday 05:30 UTC. Shanghai 08:00 was 00:00 UTC: already past, so Friday.
        ("Asia/Shanghai", dt.time(8, 0), dt.datetime(2026, 6, 18, 6, 0, tzinfo=UTC), False),
        ("Asia/Shanghai", dt.time(8, 0), dt.datetime(2026, 6, 19, 0, 0, tzinfo=UTC), True),
        # Paris 08:00 is 06:00 UTC in summer
        ("Europe/Paris", dt.time(8, 0), dt.datetime(2026, 6, 18, 5, 59, tzinfo=UTC), False),
        ("Europe/Paris", dt.time(8, 0), dt.datetime(2026, 6, 18, 6, 0, tzinfo=UTC), True),
        # New York 07:00 is 11:00 UTC
        ("America/New_York", dt.time(7, 0), dt.datetime(2026, 6, 18, 10, 59, tzinfo=UTC), False),
        ("America/New_York", dt.time(7, 0), dt.datetime(2026, 6, 18, 11, 0, tzinfo=UTC), True),
        # Auckland 06:00 is 18:00 UTC the day before
        ("Pacific/Auckland", dt.time(6, 0), dt.datetime(2026, 6, 18, 17, 59, tzinfo=UTC), False),
        ("Pacific/Auckland", dt.time(6, 0), dt.datetime(2026, 6, 18, 18, 0, tzinfo=UTC), True),
    ],
)
def test_an_announcement_reaches_each_reader_at_their_next_delivery_time(
    zone, delivery, now_utc, due
):
    _ingested(dt.datetime(2026, 6, 18, 5, 30, tzinfo=UTC))
    reader = make_subscriber(timezone=zone, delivery_time=delivery)

    found = list(subscribers_due(at=now_utc, issue_date=DAY))

    assert found == ([reader] if due else [])


@pytest.mark.django_db
def test_nobody_is_due_for_a_day_that_was_not_ingested():
    make_subscriber(timezone="UTC", delivery_time=dt.time(0, 0))
    assert list(subscribers_due(at=dt.datetime(2026, 6, 19, tzinfo=UTC), issue_date=DAY)) == []


@pytest.mark.django_db
def test_the_delivery_time_follows_daylight_saving(settings):
    # ingested the Monday after Europe's spring change (29 March 2026): Paris is UTC+2 again
    IngestDay.objects.create(
        date=dt.date(2026, 3, 30),
        status=IngestDay.Status.ANNOUNCED,
        started_at=dt.datetime(2026, 3, 30, 5, 0, tzinfo=UTC),
        finished_at=dt.datetime(2026, 3, 30, 5, 0, tzinfo=UTC),
        ready_at=dt.datetime(2026, 3, 30, 5, 0, tzinfo=UTC),
    )
    reader = make_subscriber(timezone="Europe/Paris", delivery_time=dt.time(8, 0))
    paris_eight = dt.datetime(2026, 3, 30, 8, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert paris_eight.astimezone(UTC).hour == 6

    before = subscribers_due(
        at=dt.datetime(2026, 3, 30, 5, 59, tzinfo=UTC), issue_date=dt.date(2026, 3, 30)
    )
    after = subscribers_due(
        at=dt.datetime(2026, 3, 30, 6, 0, tzinfo=UTC), issue_date=dt.date(2026, 3, 30)
    )

    assert (list(before), list(after)) == ([], [reader])


@pytest.mark.django_db
def test_a_stale_feed_is_retried_until_the_deadline_then_skipped(
    recorded_arxiv, serve_arxiv, tmp_path, settings
):
    # given the recorded day ingested, then a feed repeating it under the next date
    settings.ARXIV_RETRY_UNTIL = dt.time(10, 0)
    make_subscriber(categories=["cs.CL"])
    announcement_ingest_until(now=dt.datetime(2026, 6, 18, 5, 20, tzinfo=UTC))
    stale = tmp_path / "2026-06-19"
    (stale / "rss").mkdir(parents=True)
    feed = (recorded_arxiv.recorded.folder / "rss" / "cs.CL.xml").read_text()
    (stale / "rss" / "cs.CL.xml").write_text(feed.replace("Thu, 18 Jun 2026", "Fri, 19 Jun 2026"))
    serve_arxiv(stale)

    # when checked before and after the deadline
    early, retry_early = announcement_ingest_until(now=dt.datetime(2026, 6, 19, 5, 20, tzinfo=UTC))
    late, retry_late = announcement_ingest_until(now=dt.datetime(2026, 6, 19, 10, 5, tzinfo=UTC))

    # then it is tried again before, and skipped with a reason for staff after
    assert (early.status, retry_early) == ("stale", True)
    assert (late.status, retry_late) == ("stale", False)
    note = IngestDay.objects.get(date=dt.date(2026, 6, 19)).note
    assert note.endswith("skipped: still stale at 10:00 UTC")


@pytest.mark.django_db
def test_a_weekly_reader_gets_the_weeks_best_once_a_week():
    weekly = make_subscriber(frequency="weekly", keywords=["causal discovery"], min_relevance=1)
    daily = make_subscriber(keywords=["causal discovery"], min_relevance=1)
    early = make_paper(title="Causal discovery, Monday", announce_date=DAY - dt.timedelta(days=3))
    late = make_paper(title="Causal discovery, Thursday", announce_date=DAY)
    stale = make_paper(
        title="Causal discovery, last week", announce_date=DAY - dt.timedelta(days=7)
    )

    weekly_papers = {
        i.paper_id for i in digest_assemble(subscriber=weekly, issue_date=DAY).items.all()
    }
    daily_papers = {
        i.paper_id for i in digest_assemble(subscriber=daily, issue_date=DAY).items.all()
    }

    assert weekly_papers == {early.pk, late.pk}
    assert stale.pk not in weekly_papers
    assert daily_papers == {late.pk}
    # and the next days, the weekly reader is not due again until a week has passed
    for offset, due in ((1, False), (6, False), (7, True)):
        day = DAY + dt.timedelta(days=offset)
        _ingested_on(day)
        found = subscribers_due(
            at=dt.datetime.combine(day, dt.time(23, 0), tzinfo=UTC), issue_date=day
        )
        assert (weekly in found) is due, offset
    assert Digest.objects.filter(subscriber=weekly).count() == 1


def _ingested_on(day: dt.date) -> None:
    at = dt.datetime.combine(day, dt.time(5, 30), tzinfo=UTC)
    IngestDay.objects.create(
        date=day, status=IngestDay.Status.ANNOUNCED, started_at=at, finished_at=at, ready_at=at
    )
