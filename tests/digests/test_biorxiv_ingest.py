"""bioRxiv and medRxiv through their API's stand-in over real HTTP, from real recorded pages:
the issue day's window, cursors, versions, withdrawals and bad input."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from devtools.biorxiv_replay import RECORDED, RecordedPreprints, biorxiv_server_start
from digests.biorxiv.client import BiorxivSession, BiorxivThrottle
from digests.biorxiv.ingest import issue_window, preprints_ingest
from digests.models import AnnounceType, IngestDay, Paper, PaperVersion, ResultType
from django.utils import timezone

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 1, 5)
ALL = ["biorxiv:*", "medrxiv:*"]


@pytest.fixture
def serve(settings):
    servers = []

    def start(recorded: RecordedPreprints) -> RecordedPreprints:
        server = biorxiv_server_start(recorded)
        servers.append(server)
        settings.BIORXIV_API_URL = server.base_url
        settings.BIORXIV_REQUEST_DELAY = 0
        return recorded

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _session() -> BiorxivSession:
    return BiorxivSession(BiorxivThrottle(0))


def _issue(day: dt.date) -> None:
    IngestDay.objects.create(
        date=day, status=IngestDay.Status.ANNOUNCED, started_at=timezone.now()
    )


def test_monday_takes_friday_to_sunday_and_tuesday_takes_monday() -> None:
    assert issue_window(MONDAY) == (dt.date(2026, 1, 2), dt.date(2026, 1, 4))
    _issue(MONDAY)
    assert issue_window(MONDAY + dt.timedelta(days=1)) == (MONDAY, MONDAY)
