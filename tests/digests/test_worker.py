"""A real Celery worker process, on the configured broker, executes a real task end to end."""

from __future__ import annotations

import datetime as dt
import email
import signal
import time
from email import policy
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from digests.assemble import digest_assemble
from digests.delivery import deliveries_stuck
from digests.models import Delivery, DigestItem
from digests.reconcile import deliveries_reconcile
from digests.tasks import digest_deliver
from tests.factories import make_paper, make_subscriber
from tests.workers import Worker


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the worker test needs DATABASE_URL to name a PostgreSQL server")


@pytest.fixture
def worker(tmp_path: Path):
    """Start one `celery worker` on a queue of its own, against the test database and broker."""
    _require_postgresql()
    workers = Worker(tmp_path)
    workers.start()
    yield workers.queue, workers.outbox
    workers.stop_all()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_sends_a_digest_through_the_broker(worker):
    # given an assembled digest of one paper, committed to the database
    queue, outbox = worker
    subscriber = make_subscriber(
        email="celery@example.org", keywords=["sparse attention"], min_relevance=10
    )
    paper = make_paper(title="Sparse attention for long documents", abstract="We sparsify.")
    digest = digest_assemble(subscriber=subscriber, issue_date=paper.announce_date)
    assert list(DigestItem.objects.filter(digest=digest).values_list("paper_id", flat=True)) == [
        paper.pk
    ]

    # when the task is queued on the broker for the worker process
    digest_deliver.apply_async(args=[digest.pk], queue=queue)

    # then the worker sends it: the delivery is marked sent and the e-mail is in its outbox
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        delivery = Delivery.objects.filter(digest=digest).first()
        if delivery and delivery.status == Delivery.Status.SENT:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the worker did not send the digest within 60 s")
    assert delivery.attempts == 1
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "celery@example.org"
    assert "Sparse attention for long documents" in message["Subject"]
    print(f"worker on broker {settings.CELERY_BROKER_URL.split('://')[0]}, db {connection.vendor}")


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.02)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_and_restarted_loses_and_duplicates_nothing(tmp_path, esp):
    # given ten assembled digests, an ESP that takes 0.4 s per message, and a worker on a
    # Redis broker that hands a dead worker's task to another after 3 s
    _require_postgresql()
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("redelivery after a visibility timeout is the Redis broker's behaviour")
    esp.latency = 0.4
    workers = Worker(
        tmp_path,
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
        ANYMAIL_POSTMARK_SERVER_TOKEN=esp.token,
        ANYMAIL_POSTMARK_API_URL=esp.api_url,
        BROKER_VISIBILITY_TIMEOUT="3",
    )
    paper = make_paper(title="Sparse attention for long documents", abstract="We sparsify.")
    digests = [
        digest_assemble(
            subscriber=make_subscriber(
                email=f"reader{n}@example.org", keywords=["sparse attention"], min_relevance=10
            ),
            issue_date=paper.announce_date,
        )
        for n in range(10)
    ]
    first = workers.start()
    try:
        for digest in digests:
            digest_deliver.apply_async(args=[digest.pk], queue=workers.queue)

        # when the worker is killed (SIGKILL: no goodbye) while the ESP holds its fourth send
        def mid_fourth_send() -> bool:
            with esp._lock:
                return len(esp.requests) >= 4 and esp.requests[-1]["status"] is None

        _wait_for(mid_fourth_send, 60, "the fourth send")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert len(esp.requests) == 4  # nothing more left the dead worker
        # ... and another worker starts on the same queue
        workers.start()
        _wait_for(
            lambda: (
                Delivery.objects.filter(status=Delivery.Status.SENT).count() == 9
                and "'skipped'" in workers.log(2).read_text()
            ),
            90,
            "nine sends and the redelivered task",
        )
    finally:
        workers.stop_all()

    # then every digest reached the ESP exactly once ...
    sent_ids = sorted(int(m["Metadata"]["digest_id"]) for m in esp.messages)
    assert sent_ids == sorted(d.pk for d in digests)
    # ... nine are marked sent; the one cut off mid-send is left "sending", and its task,
    # redelivered to the second worker, did not send it again
    stuck = Delivery.objects.exclude(status=Delivery.Status.SENT).get()
    assert stuck.status == Delivery.Status.SENDING
    assert stuck.attempts == 1
    later = stuck.claimed_at + dt.timedelta(hours=1)
    assert list(deliveries_stuck(now=later)) == [stuck]
    assert workers.log(2).read_text().count("'skipped'") == 1
    # ... until the next tick asks the ESP's log, which has it: sent, with the ESP's id
    assert deliveries_reconcile(now=later).confirmed == 1
    stuck.refresh_from_db()
    assert stuck.status == Delivery.Status.SENT
    assert stuck.esp_message_id in {m["MessageID"] for m in esp.messages}
