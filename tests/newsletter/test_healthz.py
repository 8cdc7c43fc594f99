"""/healthz: the database, the broker and the age of the last successful run, as JSON."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from digests.models import IngestDay
from newsletter.health import RUN_MAX_AGE, health_check

pytestmark = pytest.mark.django_db


def _ingest_day(*, finished: dt.datetime, status: str = IngestDay.Status.ANNOUNCED) -> IngestDay:
    return IngestDay.objects.create(
        date=finished.date(), status=status, started_at=finished, finished_at=finished
    )


def test_a_healthy_service_answers_200_with_each_check(client):
    # given a run that finished an hour ago
    finished = timezone.now() - dt.timedelta(hours=1)
    _ingest_day(finished=finished)

    # when the monitor asks
    response = client.get("/healthz")

    # then 200, and each check is named and fine
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "last_run"}
    assert body["failing"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["last_run"]["last_success"] == finished.isoformat()
    assert body["checks"]["last_run"]["age_hours"] == 1.0
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_last_run_older_than_the_limit_answers_503():
    # given the last good run finished just past the limit; a later one failed
    now = timezone.now()
    _ingest_day(finished=now - RUN_MAX_AGE - dt.timedelta(minutes=1))
    _ingest_day(finished=now - dt.timedelta(hours=2), status=IngestDay.Status.FAILED)

    # when checked
    health = health_check(now=now)

    # then the run check fails and so does the whole
    assert health.checks["last_run"]["ok"] is False
    assert health.ok is False
    assert health.as_json()["status"] == "unhealthy"


def test_an_unreachable_broker_answers_503_naming_it_without_its_url(client, settings):
    # given a broker URL with a password, on a port nothing listens on
    settings.CELERY_BROKER_URL = "redis://:s3cret-password@127.0.0.1:9/0"

    # when the monitor asks
    response = client.get("/healthz")

    # then 503, the broker named as the failure, and the password nowhere
    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is False
    assert broker["transport"] == "redis"
    assert "s3cret" not in response.content.decode()


def test_no_run_yet_is_not_an_alarm():
    assert health_check().checks["last_run"] == {
        "ok": True,
        "last_success": None,
        "note": "no run yet",
    }


def test_healthz_refuses_a_post(client):
    assert client.post("/healthz").status_code == 405
