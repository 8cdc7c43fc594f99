"""A real Celery worker process, on the configured broker, executes a real task end to end."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import time
import uuid
from email import policy
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from digests.assemble import digest_assemble
from digests.models import Delivery, DigestItem
from digests.tasks import digest_deliver
from tests.conftest import REPO
from tests.factories import make_paper, make_subscriber


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path: Path):
    """Start `celery worker` on a queue of its own, against the test database and broker."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker test needs DATABASE_URL to name a PostgreSQL server")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    outbox = tmp_path / "worker-outbox"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EMAIL_FILE_PATH": str(outbox),
        "DATA_DIR": str(tmp_path / "worker-data"),
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "newsletter", "worker", "--pool", "solo",
         "--queues", queue, "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield queue, outbox
    process.terminate()
    process.wait(timeout=30)
    log.close()
    print((tmp_path / "worker.log").read_text()[-3000:])


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
