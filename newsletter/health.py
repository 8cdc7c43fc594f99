"""`/healthz`: is the service able to do its job? For load balancers and uptime monitors.

Checks the database, the cache, the broker and the age of the last successful daily run;
answers JSON, 200 when healthy and 503 when not, naming what failed but never a password or
a URL. Each component is asked in its own thread and given CHECK_DEADLINE seconds together, so
a server that accepts and never answers makes the answer "down", not a hang. A thread left
waiting ends on its client's own timeout (DATABASE_CONNECT_TIMEOUT, CACHE_SOCKET_TIMEOUT,
BROKER_TIMEOUT); until then, the next probe reports that component down without asking again.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone
from kombu import Connection

__all__ = ["CHECK_DEADLINE", "Health", "health_check"]

RUN_MAX_AGE = dt.timedelta(hours=80)  # Friday's run → Monday's, with the morning's retries
CHECK_DEADLINE = 1.0  # seconds for the database, the cache and the broker, asked together

_running: dict[str, threading.Thread] = {}  # a check still waiting on a dead server
_running_lock = threading.Lock()


@dataclass
class Health:
    checks: dict[str, dict] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check["ok"]]

    def as_json(self) -> dict:
        return {
            "status": "ok" if self.ok else "unhealthy",
            "failing": self.failing,
            "checks": self.checks,
        }


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except DatabaseError as error:
        return {"ok": False, "vendor": connection.vendor, "error": type(error).__name__}
    finally:
        connection.close()  # this thread's own connection: never left open


def _cache() -> dict:
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    key, value = "healthz:probe", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        ok = cache.get(key) == value
        return {"ok": ok, "backend": backend} | ({} if ok else {"error": "value not kept"})
    except Exception as error:  # the client library's own errors (redis.ConnectionError, …)
        return {"ok": False, "backend": backend, "error": type(error).__name__}


def _broker() -> dict:
    url = settings.CELERY_BROKER_URL
    scheme = url.split("://", 1)[0]
    if scheme == "filesystem":
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", ""))
        return {"ok": folder.is_dir(), "transport": scheme}
    timeout = settings.BROKER_TIMEOUT
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    try:
        with Connection(url, connect_timeout=timeout, transport_options=options) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
            conn.default_channel  # noqa: B018 (Redis: a command, so a silent server is seen)
        return {"ok": True, "transport": scheme}
    except Exception as error:
        return {"ok": False, "transport": scheme, "error": type(error).__name__}


def _in_thread(name: str, check: Callable[[], dict], results: dict[str, dict]) -> bool:
    """Start `check` in a thread that writes its answer into `results`; False when the last
    probe's thread for this component is still waiting (no second one piles up)."""

    def run() -> None:
        try:
            results[name] = check()
        finally:
            with _running_lock:
                _running.pop(name, None)

    with _running_lock:
        if name in _running:
            return False
        thread = threading.Thread(target=run, name=f"healthz-{name}", daemon=True)
        _running[name] = thread
    thread.start()
    return True


def _components(deadline: float) -> dict[str, dict]:
    """The database, cache and broker checks, run together, each given until the deadline."""
    results: dict[str, dict] = {}
    checks = {"database": _database, "cache": _cache, "broker": _broker}
    labels = {  # what each check is about, named even when it did not answer
        "database": {"vendor": connection.vendor},
        "cache": {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]},
        "broker": {"transport": settings.CELERY_BROKER_URL.split("://", 1)[0]},
    }
    for name, check in checks.items():
        if not _in_thread(name, check, results):
            results[name] = labels[name] | {
                "ok": False,
                "error": "still no answer since last check",
            }
    ends = time.monotonic() + deadline
    for name in checks:
        thread = _running.get(name)
        if thread is not None:
            thread.join(max(0.0, ends - time.monotonic()))
    answered = dict(results)  # a copy: a late thread must not change the answer being sent
    late = {"ok": False, "error": f"no answer within {deadline:g} s"}
    return {name: answered.get(name, labels[name] | late) for name in checks}


def _last_run(now: dt.datetime) -> dict:
    """The last ingestion that finished well (a day announced, or rightly none)."""
    from digests.models import IngestDay

    try:
        last = (
            IngestDay.objects.filter(
                status__in=[IngestDay.Status.ANNOUNCED, IngestDay.Status.NONE],
                finished_at__isnull=False,
            )
            .order_by("-finished_at")
            .values("date", "finished_at")
            .first()
        )
    except DatabaseError as error:  # e.g. not migrated yet
        return {"ok": False, "error": type(error).__name__}
    if last is None or last["finished_at"] is None:
        return {"ok": True, "last_success": None, "note": "no run yet"}
    age = now - last["finished_at"]
    return {
        "ok": age <= RUN_MAX_AGE,
        "last_success": last["finished_at"].isoformat(),
        "day": last["date"].isoformat(),
        "age_hours": round(age.total_seconds() / 3600, 1),
        "max_age_hours": RUN_MAX_AGE.total_seconds() / 3600,
    }


def health_check(*, now: dt.datetime | None = None, deadline: float = CHECK_DEADLINE) -> Health:
    health = Health()
    health.checks.update(_components(deadline))
    if health.checks["database"]["ok"]:
        health.checks["last_run"] = _last_run(now or timezone.now())
    return health
