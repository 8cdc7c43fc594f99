"""`/healthz`: is the service able to do its job? For load balancers and uptime monitors.

Checks the database, the broker and the age of the last successful daily run; answers JSON,
200 when healthy and 503 when not. It names what failed but never a password or a URL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from kombu import Connection

__all__ = ["Health", "health_check"]

RUN_MAX_AGE = dt.timedelta(hours=80)  # Friday's run → Monday's, with the morning's retries
BROKER_TIMEOUT = 2.0


@dataclass
class Health:
    checks: dict[str, dict] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    def as_json(self) -> dict:
        return {"status": "ok" if self.ok else "unhealthy", "checks": self.checks}


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except DatabaseError as error:
        return {"ok": False, "vendor": connection.vendor, "error": type(error).__name__}


def _broker() -> dict:
    url = settings.CELERY_BROKER_URL
    scheme = url.split("://", 1)[0]
    if scheme == "filesystem":
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", ""))
        return {"ok": folder.is_dir(), "transport": scheme}
    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
        return {"ok": True, "transport": scheme}
    except Exception as error:
        return {"ok": False, "transport": scheme, "error": type(error).__name__}


def _last_run(now: dt.datetime) -> dict:
    """The last ingestion that finished well (a day announced, or rightly none)."""
    from digests.models import IngestDay

    last = (
        IngestDay.objects.filter(
            status__in=[IngestDay.Status.ANNOUNCED, IngestDay.Status.NONE],
            finished_at__isnull=False,
        )
        .order_by("-finished_at")
        .values("date", "finished_at")
        .first()
    )
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


def health_check(*, now: dt.datetime | None = None) -> Health:
    health = Health()
    health.checks["database"] = _database()
    health.checks["broker"] = _broker()
    if health.checks["database"]["ok"]:
        health.checks["last_run"] = _last_run(now or timezone.now())
    return health
