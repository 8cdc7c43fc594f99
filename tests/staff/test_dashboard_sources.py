"""The staff dashboard per source: the day's papers by source, linked to their lists, and 30
days of papers ingested per issue day with a chart series per source."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from digests.models import AnnounceType, IngestDay, Source
from staff.dashboard import dashboard_day, paper_history
from tests.factories import make_paper

DAY = dt.date(2026, 6, 18)
SVG = "{http://www.w3.org/2000/svg}"


def _papers(day: dt.date, source: str, count: int) -> None:
    for n in range(count):
        doi = f"10.1101/{day:%Y.%m.%d}.{source[:3]}{n:03d}"
        make_paper(
            arxiv_id=doi if source != Source.ARXIV else f"{day:%y%m}.{day.day:02d}{n:03d}",
            source=source,
            announce_date=day,
            announce_type=AnnounceType.NEW,
        )


def _a_week_of_three_sources() -> None:
    _papers(DAY, Source.ARXIV, 4)
    _papers(DAY, Source.BIORXIV, 3)
    _papers(DAY, Source.MEDRXIV, 1)
    _papers(DAY - dt.timedelta(days=3), Source.BIORXIV, 2)  # the Monday before
    _papers(DAY - dt.timedelta(days=40), Source.ARXIV, 5)  # outside the 30 days
    make_paper(arxiv_id="10.1101/seed.only", source=Source.BIORXIV, announce_date=None,
               announce_type="")  # fmt: skip  # a seed: no day's paper


@pytest.mark.django_db
def test_the_day_and_the_history_count_papers_by_source():
    # given papers of three sources over a few days
    _a_week_of_three_sources()
    # when the day's figures and the history are read
    board = dashboard_day(day=DAY)
    history = paper_history(end=DAY, days=30)
    # then the day's papers are split by source, every source named
    assert board.papers.by_source == {"arxiv": 4, "biorxiv": 3, "medrxiv": 1}
    assert board.papers.total == 8
    # and each source has a count per calendar day, oldest first
    assert history.days[0] == DAY - dt.timedelta(days=29) and history.days[-1] == DAY
    assert list(history.by_source) == ["arxiv", "biorxiv", "medrxiv"]
    assert history.by_source["arxiv"][-1] == 4 and sum(history.by_source["arxiv"]) == 4
    assert history.by_source["biorxiv"][-1] == 3 and history.by_source["biorxiv"][-4] == 2
    assert sum(history.by_source["biorxiv"]) == 5
    assert history.by_source["medrxiv"] == [0] * 29 + [1]


@pytest.mark.django_db
def test_the_page_draws_a_series_per_source_and_links_each_count_to_its_list(
    admin_client: Client,
):
    # given the papers of three sources, and the day ingested
    _a_week_of_three_sources()
    IngestDay.objects.create(date=DAY, status=IngestDay.Status.ANNOUNCED, started_at=timezone.now())
    # when staff open the day
    response = admin_client.get(reverse("admin:digests_dashboard_day", args=[DAY.isoformat()]))
    # then the chart of papers per issue day has a bar per day and source, as tall as its count
    svg = ET.fromstring(str(response.context["papers_chart"]))  # noqa: S314 - our own markup
    bars = svg.findall(f".//{SVG}rect[@class='bar']")
    assert len(bars) == 30 * 3
    last = {
        b.get("data-series"): b.get("data-value") for b in bars if b.get("data-label") == "06-18"
    }
    assert last == {"arXiv": "4", "bioRxiv": "3", "medRxiv": "1"}
    monday = {
        b.get("data-series"): b.get("data-value") for b in bars if b.get("data-label") == "06-15"
    }
    assert monday == {"arXiv": "0", "bioRxiv": "2", "medRxiv": "0"}
    page = response.content.decode()
    assert 'id="papers-by-source"' in page and "Papers ingested per issue day, by source" in page
    # and each source's count opens the paper list filtered to it, which agrees
    link = "/admin/digests/paper/?announce_date=2026-06-18&amp;source=biorxiv"
    assert link in page
    listed = admin_client.get(link.replace("&amp;", "&"))
    assert listed.context["cl"].result_count == 3
