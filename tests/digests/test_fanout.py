"""The day's sending cut into chunks for many workers: who is due, once each, retries not lost."""

from __future__ import annotations

import datetime as dt
import random
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.utils import timezone

from digests import tasks
from digests.assemble import digest_assemble
from digests.delivery import SendOutcome
from digests.fanout import (
    _last_delivery_moment,
    chunk_send,
    digests_retry_due,
    send_plan,
    subscriber_ids_due,
)
from digests.models import Delivery, Digest, IngestDay
from tests.factories import make_paper, make_subscriber

DAY = dt.date(2026, 6, 18)
READY = dt.datetime(2026, 6, 18, 5, 30, tzinfo=dt.UTC)
ZONES = ["Asia/Shanghai", "Europe/Paris", "America/New_York", "Pacific/Auckland", "UTC",
         "Asia/Kolkata", "America/St_Johns", "Australia/Adelaide"]  # fmt: skip


def _day_ready() -> None:
    IngestDay.objects.create(
        date=DAY, status="announced", started_at=READY, finished_at=READY, ready_at=READY
    )


@pytest.mark.django_db
def test_due_subscribers_are_exactly_those_whose_local_time_has_come():
    # given 60 readers over eight zones (half-hour offsets too) and random delivery times
    _day_ready()
    rng = random.Random(7)
    readers = [
        make_subscriber(
            timezone=rng.choice(ZONES),
            delivery_time=dt.time(rng.randrange(24), rng.choice([0, 15, 30, 45])),
        )
        for _ in range(60)
    ]
    for hours in (1, 6, 13, 20, 26):
        at = READY + dt.timedelta(hours=hours)

        # when the due readers are found with one clock computation per zone and time
        found = subscriber_ids_due(at=at, issue_date=DAY)

        # then they are the ones the per-reader rule names, in id order
        expected = [
            r.pk
            for r in readers
            if _last_delivery_moment(at, ZoneInfo(r.timezone), r.delivery_time) >= READY
        ]
        assert found == expected
    assert 0 < len(subscriber_ids_due(at=READY + dt.timedelta(hours=13), issue_date=DAY)) < 60


@pytest.mark.django_db
def test_the_plan_cuts_the_due_readers_into_chunks_of_the_configured_size(settings):
    # given five readers due now, one not yet, and one who already has the day's digest
    _day_ready()
    settings.SEND_CHUNK_SIZE = 2
    due = [make_subscriber(timezone="UTC", delivery_time=dt.time(6, 0)) for _ in range(5)]
    make_subscriber(timezone="UTC", delivery_time=dt.time(23, 0))
    served = make_subscriber(timezone="UTC", delivery_time=dt.time(6, 0))
    make_paper()
    digest_assemble(subscriber=served, issue_date=DAY)

    plan = send_plan(issue_date=DAY, now=dt.datetime(2026, 6, 18, 7, 0, tzinfo=dt.UTC))

    assert plan.chunks == [[due[0].pk, due[1].pk], [due[2].pk, due[3].pk], [due[4].pk]]
    assert plan.summary().startswith("5 subscribers due for 2026-06-18 in 3 chunks")


@pytest.mark.django_db
def test_a_second_beat_tick_in_the_same_quarter_hour_does_nothing(monkeypatch, settings):
    # given a day ready and two readers due
    _day_ready()
    readers = [make_subscriber(timezone="UTC", delivery_time=dt.time(0, 0)) for _ in range(2)]
    queued: list[tuple] = []
    monkeypatch.setattr(tasks.digests_send_chunk, "delay", lambda *args: queued.append(args))

    # when two beats each send the tick
    first = tasks.digests_send_due()
    second = tasks.digests_send_due()

    # then one chunk went to the workers, once
    assert first.startswith("2 subscribers due for 2026-06-18 in 1 chunks")
    assert second == "this tick was already handled"
    assert queued == [("2026-06-18", [r.pk for r in readers])]


@pytest.mark.django_db
def test_a_chunk_run_twice_makes_and_sends_each_digest_once(outbox_dir, recorded_arxiv):
    # given three readers of one paper (its affiliations are looked for on the local arXiv)
    _day_ready()
    make_paper(title="Sparse attention for long documents")
    readers = [make_subscriber(keywords=["sparse attention"], min_relevance=10) for _ in range(3)]
    ids = [r.pk for r in readers]

    first = chunk_send(issue_date=DAY, subscriber_ids=ids)
    again = chunk_send(issue_date=DAY, subscriber_ids=ids)

    assert (first.sent, first.assembled) == (3, 3)
    assert (again.sent, again.skipped) == (0, 3)
    assert Digest.objects.count() == 3
    assert len(list(outbox_dir.glob("*.eml"))) == 3


@pytest.mark.django_db(transaction=True)
def test_two_workers_given_the_same_chunk_send_each_digest_once(outbox_dir, recorded_arxiv):
    if connection.vendor != "postgresql":
        pytest.skip("racing workers need a database with row-level concurrency (PostgreSQL)")
    _day_ready()
    make_paper(title="Sparse attention for long documents")
    ids = [make_subscriber(keywords=["sparse attention"], min_relevance=10).pk for _ in range(8)]

    def worker() -> int:
        try:
            return chunk_send(issue_date=DAY, subscriber_ids=ids).sent
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        sent = sum(pool.map(lambda _: worker(), range(2)))

    assert sent == 8
    assert Delivery.objects.filter(status="sent", attempts=1).count() == 8
    assert len(list(outbox_dir.glob("*.eml"))) == 8


@pytest.mark.django_db
def test_overdue_retries_and_orphaned_digests_are_found_again():
    # given digests in every state a tick can find
    _day_ready()
    make_paper(title="Sparse attention")
    now = timezone.now()
    long_ago = now - dt.timedelta(minutes=30)

    def digest(**delivery) -> Digest:
        made = digest_assemble(
            subscriber=make_subscriber(keywords=["sparse attention"], min_relevance=1),
            issue_date=DAY,
        )
        Digest.objects.filter(pk=made.pk).update(created_at=long_ago)
        if delivery:
            Delivery.objects.create(digest=made, **delivery)
        return made

    overdue = digest(status="queued", attempts=1, next_attempt_at=long_ago)
    orphan = digest()  # assembled by a run that died before sending
    digest(status="queued", attempts=1, next_attempt_at=now)  # its task is on its way
    digest(status="sent", attempts=1)
    digest(status="sending", attempts=1)  # ambiguous: for staff, never re-sent blindly

    found = digests_retry_due(now=now)

    assert found == sorted([overdue.pk, orphan.pk])


def test_outcomes_are_the_ones_the_tasks_know():
    assert {o.value for o in SendOutcome} == {"sent", "skipped", "retry", "failed"}
