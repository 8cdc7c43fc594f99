"""Bounded waits: a PostgreSQL, a cache Redis or a broker Redis that accepts connections and
never answers makes /healthz answer 503 naming it within seconds, and never hangs a request
or a publish. The service runs in a child process configured by its environment, as deployed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from newsletter import health
from tests.conftest import REPO
from tests.newsletter.silent import silent_server

PROBE = """
import json, time, django
django.setup()
from django.test import Client
started = time.monotonic()
response = Client().get("/healthz")
result = {"status": response.status_code, "seconds": time.monotonic() - started,
          "body": response.json()}
EXTRA
print("RESULT " + json.dumps(result))
"""


def _run(tmp_path: Path, extra: str = "", **env: str) -> dict:
    """Start a fresh Django process with this environment; return what PROBE printed."""
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsletter.settings",
        "ALLOWED_HOSTS": "testserver",
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "CELERY_BROKER_URL": "filesystem://",
        "CACHE_URL": "",
        **env,
    }
    code = PROBE.replace("EXTRA", extra)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=full_env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


@pytest.fixture(autouse=True)
def _no_check_left_waiting():
    """A check thread still waiting on a silent server would answer for the next test."""
    yield
    for thread in list(health._running.values()):
        thread.join(10)


def test_a_database_that_never_answers_is_named_within_seconds(tmp_path: Path):
    with silent_server() as port:
        # given PostgreSQL on a server that accepts and never answers
        result = _run(
            tmp_path,
            # and then a request's own query, with a 2-second connect timeout
            extra=(
                "from django.db import connection, OperationalError\n"
                "started = time.monotonic()\n"
                "try:\n"
                "    connection.ensure_connection(); result['query'] = 'answered'\n"
                "except OperationalError as error:\n"
                "    result['query'] = type(error).__name__\n"
                "result['query_seconds'] = time.monotonic() - started\n"
            ),
            DATABASE_URL=f"postgres://digest:pw@127.0.0.1:{port}/digest",
            DATABASE_CONNECT_TIMEOUT="2",
        )

    # then /healthz answers 503 within about the check deadline, naming the database only
    assert result["status"] == 503
    assert result["seconds"] < health.CHECK_DEADLINE + 1.5
    body = result["body"]
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["vendor"] == "postgresql"
    assert body["checks"]["cache"]["ok"] is True and body["checks"]["broker"]["ok"] is True
    assert "pw" not in json.dumps(body) and str(port) not in json.dumps(body)
    # and a request's query gives up after the connect timeout instead of hanging
    assert result["query"] == "OperationalError"
    assert 1.5 < result["query_seconds"] < 6


def test_a_cache_redis_that_never_answers_is_named_not_reported_ok(tmp_path: Path):
    with silent_server() as port:
        # given the cache (rate limits) on a Redis that accepts and never answers
        result = _run(tmp_path, CACHE_URL=f"redis://127.0.0.1:{port}/1")

    # then 503 within seconds, the cache named, the database and broker fine
    assert result["status"] == 503
    assert result["seconds"] < health.CHECK_DEADLINE + 1.5
    checks = result["body"]["checks"]  # (last_run fails too: this SQLite file is not migrated)
    assert checks["cache"] == {
        "backend": "RedisCache",
        "ok": False,
        "error": "no answer within 1 s",
    }
    assert checks["database"]["ok"] is True and checks["broker"]["ok"] is True


def test_a_cache_redis_that_is_down_is_named(tmp_path: Path):
    # given the cache on a port nothing listens on (Redis stopped)
    result = _run(tmp_path, CACHE_URL="redis://127.0.0.1:9/1")

    # then /healthz does not say 200 ok
    assert result["status"] == 503
    checks = result["body"]["checks"]
    assert checks["cache"] == {"ok": False, "backend": "RedisCache", "error": "ConnectionError"}
    assert checks["database"]["ok"] is True and checks["broker"]["ok"] is True


@pytest.mark.django_db
def test_a_broker_that_never_answers_is_named_and_probes_do_not_pile_up(client, settings):
    with silent_server() as port:
        # given a Redis broker that accepts and never answers
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
        settings.BROKER_TIMEOUT = 3.0

        # when the monitor asks twice in a row
        started = time.monotonic()
        first = client.get("/healthz")
        second = client.get("/healthz")
        elapsed = time.monotonic() - started

        # then both answer 503 naming the broker, in about the deadline each
        assert (first.status_code, second.status_code) == (503, 503)
        assert first.json()["failing"] == ["broker"]
        assert first.json()["checks"]["broker"] == {
            "transport": "redis",
            "ok": False,
            "error": "no answer within 1 s",
        }
        assert second.json()["checks"]["broker"]["error"] == "still no answer since last check"
        assert elapsed < 2 * health.CHECK_DEADLINE + 1.5
        assert [t.name for t in health._running.values()] == ["healthz-broker"]  # one, not two


def test_publishing_to_a_broker_that_never_answers_fails_within_seconds(tmp_path: Path):
    with silent_server() as port:
        # given a Redis broker that accepts and never answers, and a 1-second broker timeout
        result = _run(
            tmp_path,
            extra=(
                "from newsletter.celery import app\n"
                "started = time.monotonic()\n"
                "try:\n"
                "    app.send_task('subscribers.tasks.send_signin_link', args=[1])\n"
                "    result['publish'] = 'sent'\n"
                "except Exception as error:\n"
                "    result['publish'] = type(error).__name__\n"
                "result['publish_seconds'] = time.monotonic() - started\n"
            ),
            CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0",
            BROKER_TIMEOUT="1",
        )

    # then the publish raises (the caller can answer or retry) instead of hanging
    assert result["publish"] == "OperationalError"
    assert result["publish_seconds"] < 15
    assert result["body"]["checks"]["broker"]["ok"] is False
    assert result["body"]["checks"]["cache"]["ok"] is True


@pytest.mark.django_db
def test_postgresql_cancels_a_statement_past_the_statement_timeout(tmp_path: Path):
    # given the test database, reached with a half-second statement timeout
    assert connection.vendor == "postgresql", "the suite runs on PostgreSQL (make test)"
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"

    # when a request's query would run five seconds
    result = _run(
        tmp_path,
        extra=(
            "from django.db import connection, OperationalError\n"
            "started = time.monotonic()\n"
            "try:\n"
            "    with connection.cursor() as cursor: cursor.execute('SELECT pg_sleep(5)')\n"
            "    result['query'] = 'answered'\n"
            "except OperationalError as error:\n"
            "    result['query'] = type(error.__cause__).__name__\n"
            "result['query_seconds'] = time.monotonic() - started\n"
        ),
        DATABASE_URL=url,
        DATABASE_STATEMENT_TIMEOUT="0.5",
    )

    # then the server cancels it after the timeout
    assert result["query"] == "QueryCanceled"
    assert result["query_seconds"] < 3
