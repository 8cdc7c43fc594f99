"""Faults survived by the daily send: real `celery worker` processes (solo pool) on a real broker,
PostgreSQL, and the stub ESP over HTTP. Each test ends with every due digest at the ESP exactly
once, and every delivery sent, or left "sending" only for the one cut off mid-send (its digest
is at the ESP once: the reconciliation with the ESP settles it, never a blind second send).

Each test is bounded by the deadlines of its waits (said in its docstring); the file takes about
about two minutes.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from devtools.esp_stub import ESPStub
from digests.fanout import RETRY_GRACE, SendPlan, send_plan
from digests.models import Delivery, Digest, IngestDay
from digests.reconcile import RECONCILE_AFTER, deliveries_reconcile
from digests.tasks import digest_deliver, digests_send_chunk
from subscribers.models import Subscriber
from tests.factories import make_paper, make_subscriber
from tests.workers import RedisServer, Worker, broker_reachable, publish, wait_for

DAY = dt.date(2026, 6, 18)
BROKERS = {
    "redis": "redis://127.0.0.1:6379/12",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}
SENT, SENDING = Delivery.Status.SENT, Delivery.Status.SENDING


@pytest.fixture(params=list(BROKERS))
def broker(request) -> str:
    """Each broker in turn; one that cannot be reached fails the test, it is never skipped."""
    if connection.vendor != "postgresql":
        pytest.fail("the fault tests need DATABASE_URL to name a PostgreSQL server")
    url = BROKERS[request.param]
    if not broker_reachable(url):
        pytest.fail(f"the {request.param} broker at {url} is not reachable")
    return url


def _readers_due(count: int, settings, *, chunk: int) -> list[Subscriber]:
    """A day announced two days ago, one paper, and `count` readers due for it, `chunk` a task."""
    settings.SEND_CHUNK_SIZE = chunk
    ready = timezone.now() - dt.timedelta(days=2)
    IngestDay.objects.create(
        date=DAY, status="announced", started_at=ready, finished_at=ready, ready_at=ready
    )
    # already checked for affiliations: the worker reads no arXiv page
    make_paper(title="Sparse attention for long documents", affiliations_checked_at=ready)
    return [make_subscriber(keywords=["sparse attention"], min_relevance=10) for _ in range(count)]


def _esp_env(esp: ESPStub, *, concurrency: int = 1) -> dict[str, str]:
    """The worker's mail settings. One message in flight by default: these tests cut a worker
    off at the n-th send; `test_a_worker_killed_with_messages_in_flight…` sends several."""
    return {
        "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
        "ANYMAIL_POSTMARK_SERVER_TOKEN": esp.token,
        "ANYMAIL_POSTMARK_API_URL": esp.api_url,
        "SEND_CONCURRENCY": str(concurrency),
    }


def _tick(*, now: dt.datetime, broker_url: str, queue: str) -> SendPlan:
    """What `digests_send_due` hands to the workers at `now`, sent to this queue and broker."""
    plan = send_plan(issue_date=DAY, now=now)
    for chunk in plan.chunks:
        publish(digests_send_chunk, DAY.isoformat(), chunk, broker_url=broker_url, queue=queue)
    for digest_id in plan.retry_digest_ids:
        publish(digest_deliver, digest_id, broker_url=broker_url, queue=queue)
    return plan


def _mid_send(esp: ESPStub, number: int) -> bool:
    """The ESP holds the `number`th send: the request arrived and has no answer yet."""
    with esp._lock:
        return len(esp.requests) == number and esp.requests[-1]["status"] is None


def _sent(count: int) -> bool:
    return Delivery.objects.filter(status=SENT).count() == count


def _sweeper_time() -> dt.datetime:
    """A tick late enough that lost retries and orphaned digests count as overdue."""
    return timezone.now() + RETRY_GRACE + dt.timedelta(minutes=1)


def _assert_each_digest_sent_once(esp: ESPStub, readers: list[Subscriber], *, cut_off: int):
    digests = Digest.objects.filter(subscriber__in=readers, issue_date=DAY)
    assert digests.count() == len(readers)
    with esp._lock:
        at_esp = sorted(int(m["Metadata"]["digest_id"]) for m in esp.messages)
    assert at_esp == sorted(d.pk for d in digests)  # each once, none missing
    left = Delivery.objects.exclude(status=SENT).values_list("status", "attempts")
    assert list(left) == [(SENDING, 1)] * cut_off
    # and the one cut off mid-send is settled by the ESP's log at the next tick: sent, once
    settled = deliveries_reconcile(now=timezone.now() + RECONCILE_AFTER + dt.timedelta(minutes=1))
    assert (settled.confirmed, settled.requeued, settled.unknown) == (cut_off, [], 0)
    assert Delivery.objects.exclude(status=SENT).count() == 0
    with esp._lock:
        assert len(esp.messages) == len(readers)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_and_restarted_sends_each_digest_once(
    broker, tmp_path: Path, esp: ESPStub, settings
):
    """Bound: 60 s of waits (about 12 s). RabbitMQ hands the dead worker's unacked task back
    when its connection drops; Redis after the visibility timeout, set to 3 s here."""
    # given twelve readers due in three chunks, an ESP taking 0.3 s a message, and a worker
    readers = _readers_due(12, settings, chunk=4)
    esp.latency = 0.3
    workers = Worker(tmp_path, broker_url=broker, BROKER_VISIBILITY_TIMEOUT="3", **_esp_env(esp))
    first = workers.start()
    try:
        _tick(now=timezone.now(), broker_url=broker, queue=workers.queue)

        # when the worker is killed while the ESP holds the second chunk's second send ...
        wait_for(lambda: _mid_send(esp, 6), 30, "the sixth send")
        workers.kill(first)
        assert len(esp.requests) == 6  # nothing more left the dead worker
        # ... and another starts on the same queue
        workers.start()

        # then the second chunk is handed to it again and finished, then the third
        wait_for(
            lambda: _sent(11) and re.search(r"[1-9] already handled", workers.log(2).read_text()),
            30,
            "eleven sends and the second chunk run again",
        )
    finally:
        workers.stop_all()
    _assert_each_digest_sent_once(esp, readers, cut_off=1)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_with_messages_in_flight_sends_each_digest_once(
    tmp_path: Path, esp: ESPStub, settings
):
    if connection.vendor != "postgresql":
        pytest.fail("the fault tests need DATABASE_URL to name a PostgreSQL server")
    """Bound: 60 s of waits. Three messages in flight per worker (SEND_CONCURRENCY): those the
    ESP took when the worker died are settled by its log, the others sent by the next worker."""
    # given twelve readers due in three chunks, a worker sending three at a time
    readers = _readers_due(12, settings, chunk=4)
    esp.latency = 0.5
    redis_url = "redis://127.0.0.1:6379/15"
    workers = Worker(
        tmp_path,
        broker_url=redis_url,
        BROKER_VISIBILITY_TIMEOUT="3",
        **_esp_env(esp, concurrency=3),
    )
    first = workers.start()
    try:
        _tick(now=timezone.now(), broker_url=redis_url, queue=workers.queue)

        # when the worker is killed with messages at the ESP and no answer yet ...
        def in_flight() -> bool:
            with esp._lock:
                held = [r for r in esp.requests if r["status"] is None]
            return len(esp.requests) >= 5 and len(held) >= 2

        wait_for(in_flight, 30, "a chunk's messages in flight")
        workers.kill(first)
        time.sleep(esp.latency + 0.5)  # what the ESP took, it answers (to nobody)
        with esp._lock:
            at_esp = len(esp.messages)
        cut_off = at_esp - Delivery.objects.filter(status=SENT).count()
        assert cut_off >= 1  # the dead worker never recorded these
        # ... and another starts on the same queue
        workers.start()

        # then every other digest is sent by it, none of the ESP's again
        wait_for(lambda: _sent(12 - cut_off), 30, "the rest sent")
    finally:
        workers.stop_all()
    _assert_each_digest_sent_once(esp, readers, cut_off=cut_off)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_database_connection_dropped_mid_task_loses_and_duplicates_nothing(
    broker, tmp_path: Path, esp: ESPStub, settings
):
    """Bound: 60 s of waits (about 10 s). The chunk task fails on its dead connection; the
    worker takes a new one for the next task; the next tick's sweep sends what was left."""
    # given eight readers due in two chunks, an ESP taking 0.5 s a message, and a worker
    readers = _readers_due(8, settings, chunk=4)
    esp.latency = 0.5
    workers = Worker(tmp_path, broker_url=broker, **_esp_env(esp))
    workers.start()
    try:
        _tick(now=timezone.now(), broker_url=broker, queue=workers.queue)

        # when PostgreSQL ends the worker's session while the ESP holds its second send
        wait_for(lambda: _mid_send(esp, 2), 30, "the second send")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = %s",
                [workers.queue],
            )
            assert cursor.fetchall() == [(True,)]

        # then that chunk's task fails, and the worker goes on to send the second chunk
        wait_for(
            lambda: _sent(5) and "OperationalError" in workers.logs(),
            20,
            "the first chunk's failure and the second chunk sent",
        )
        # ... and the first chunk's last two digests, assembled but never tried, are found by
        # the next tick once overdue (nothing is due for a first digest any more)
        plan = _tick(now=_sweeper_time(), broker_url=broker, queue=workers.queue)
        assert plan.chunks == []
        assert len(plan.retry_digest_ids) == 2
        wait_for(lambda: _sent(7), 10, "the two orphaned digests sent")
    finally:
        workers.stop_all()
    _assert_each_digest_sent_once(esp, readers, cut_off=1)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_redis_broker_restarted_mid_run_loses_its_queue_and_the_next_tick_recovers_it(
    tmp_path: Path, esp: ESPStub, settings
):
    """Bound: 60 s of waits (about 10 s). A Redis server of the test's own, keeping nothing on
    disk, is killed and started again while the worker sends the first of three chunks: the
    other two chunks are gone with it; the worker reconnects, and the next tick hands their
    readers (still without a digest) to it again. RabbitMQ keeps durable queues across a
    restart, so this loss is Redis's alone."""
    # given twelve readers due in three chunks, an ESP taking 0.3 s a message, and a worker on
    # a Redis of its own
    if connection.vendor != "postgresql":
        pytest.fail("the fault tests need DATABASE_URL to name a PostgreSQL server")
    readers = _readers_due(12, settings, chunk=4)
    esp.latency = 0.3
    redis = RedisServer(tmp_path)
    redis.start()
    workers = Worker(tmp_path, broker_url=redis.url, **_esp_env(esp))
    workers.start()
    try:
        _tick(now=timezone.now(), broker_url=redis.url, queue=workers.queue)

        # when Redis is killed and started again, empty, while the ESP holds the second send
        wait_for(lambda: _mid_send(esp, 2), 30, "the second send")
        redis.kill()
        redis.start()

        # then the worker finishes its chunk, and nothing else comes: the queue is gone
        wait_for(lambda: _sent(4), 10, "the first chunk sent")
        assert not Digest.objects.filter(subscriber__in=readers[4:]).exists()
        # ... until the next tick finds the other eight readers due and queues them again
        plan = _tick(now=_sweeper_time(), broker_url=redis.url, queue=workers.queue)
        assert plan.chunks == [[r.pk for r in readers[4:8]], [r.pk for r in readers[8:]]]
        assert plan.retry_digest_ids == []
        wait_for(lambda: _sent(12), 20, "the other two chunks sent after the restart")
    finally:
        workers.stop_all()
        redis.kill()
    _assert_each_digest_sent_once(esp, readers, cut_off=0)


# A refused send is retried after RETRY_FIRST seconds, then 8, 16, 32… (each up to a quarter
# more, and later still when the worker is busy), counted from the worker being ready: the tries
# fall at about 0–2 s, 4–8, 12–21 and 28–40 s. An outage of OUTAGE seconds refuses each digest
# three times and the fourth try is sent: OUTAGE sits in the gap between the third and fourth
# tries, with seconds to spare on both sides. (Production waits 30 s first; the scale is the
# settings', the behaviour the same.)
OUTAGE = 25.0  # seconds the ESP answers 500, from the worker being ready
RETRY_FIRST = "4"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_esp_answering_500_for_a_while_delays_each_digest_and_sends_it_once(
    broker, tmp_path: Path, esp: ESPStub, settings
):
    """Bound: 200 s of waits (about 35 s). Each refused digest is queued again with its next
    attempt time and retried by Celery (a task with an ETA, through the broker) with backoff:
    several refusals during the outage, then one send after it."""
    # given six readers due in two chunks and an ESP that answers 500 for OUTAGE seconds
    readers = _readers_due(6, settings, chunk=3)
    esp.latency = 0.1
    esp.plan("status", status=500, times=1000)

    back = threading.Timer(OUTAGE, esp.plan_clear)
    workers = Worker(
        tmp_path, broker_url=broker, SEND_RETRY_FIRST_SECONDS=RETRY_FIRST, **_esp_env(esp)
    )
    workers.start()
    try:
        workers.wait_ready()
        # when the day's chunks go to the worker during the outage
        back.start()
        started = time.monotonic()
        _tick(now=timezone.now(), broker_url=broker, queue=workers.queue)

        # then each digest is refused once and queued again for a later try ...
        wait_for(
            lambda: Delivery.objects.filter(status="queued", attempts=1).count() == 6,
            30,
            "six deliveries refused and queued again",
        )
        assert Delivery.objects.filter(next_attempt_at__isnull=True).count() == 0
        # ... tried again with backoff while it lasts, and sent once after it
        wait_for(lambda: _sent(6), 110, "the six retries sent")
        assert time.monotonic() - started >= OUTAGE
    finally:
        back.cancel()
        workers.stop_all()
    _assert_each_digest_sent_once(esp, readers, cut_off=0)
    attempts = list(Delivery.objects.values_list("attempts", flat=True))
    assert all(4 <= n <= 8 for n in attempts), attempts  # backoff: a few tries, not a storm
    statuses = [r["status"] for r in esp.requests]
    assert statuses.count(200) == 6
    assert statuses.count(500) == sum(attempts) - 6
    assert statuses[-6:] == [200] * 6
