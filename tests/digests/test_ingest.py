"""Ingestion over real HTTP: the recorded day, new versions, empty and stale days, faults."""

from __future__ import annotations

import datetime as dt
import io
import math

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from devtools.arxiv_fixtures import FakePaper, day_write
from digests import ingest as ingest_module
from digests.daily import daily_run
from digests.ingest import day_ingest
from digests.models import Digest, IngestDay, Paper, PipelineStep, StepRun
from tests.factories import make_subscriber

DAY = dt.date(2026, 6, 18)
DEMO_CATEGORIES = ["cs.AI", "cs.CL", "cs.LG"]


def _api_requests(server) -> list[str]:
    return [path for path in server.recorded.requests if path.startswith("/api/query")]


def _ingest(*args: str) -> str:
    out = io.StringIO()
    call_command("ingest", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_ingest_stores_every_announced_paper_once_with_its_type_and_fields(recorded_arxiv):
    # when the recorded day is ingested through the command
    output = _ingest("--date", "2026-06-18", "--categories", "cs.CL,cs.AI,cs.LG")

    # then every paper of the three feeds is stored once
    assert Paper.objects.count() == 22
    assert "ingested 22 papers announced 2026-06-18: 22 new, 0 changed" in output
    # all four announce types, as the paper's own category's feed says
    types = dict(Paper.objects.values_list("arxiv_id", "announce_type"))
    assert types["2606.18831"] == "new"
    assert types["2410.15595"] == "replace"
    assert types["2606.19004"] == "cross"  # primary cs.DC, listed in cs.AI and cs.LG only
    assert {"new", "cross", "replace", "replace-cross"} >= set(types.values())
    cross = Paper.objects.get(arxiv_id="2606.19004")
    assert cross.primary_category == "cs.DC"
    # the API's fields
    paper = Paper.objects.get(arxiv_id="2606.13795")
    assert paper.title == "DiPOD: Diffusion Policy Optimization without Drifting Apart"
    assert paper.authors[0] == {
        "name": "Haozhe Jiang",
        "affiliations": [
            "University of California, Berkeley",
            "Simons Institute for the Theory of Computing",
            "Department of Electrical Engineering and Computer Sciences, "
            "University of California, Berkeley",
        ],
    }
    assert paper.comment.startswith("Project page: astro-eric.github.io/blogs/dipod/")
    assert paper.categories == ["cs.LG"]
    assert paper.published == dt.datetime(2026, 6, 17, 0, 15, 6, tzinfo=dt.UTC)
    assert paper.abs_url == "https://arxiv.org/abs/2606.13795v1"
    assert paper.pdf_url == "https://arxiv.org/pdf/2606.13795v1"
    assert paper.html_url == "https://arxiv.org/html/2606.13795v1"
    replaced = Paper.objects.get(arxiv_id="2410.15595")
    assert replaced.version == 2
    # and the day is recorded for staff, with one API request for 22 papers
    day = IngestDay.objects.get(date=DAY)
    assert (day.status, day.listed, day.created, day.api_requests) == ("announced", 22, 22, 1)
    assert len(_api_requests(recorded_arxiv)) == 1
    # and its timing is on the staff's dashboard, under the day arXiv announced
    run = StepRun.objects.get(step=PipelineStep.INGEST)
    assert (run.day, run.ok) == (DAY, True)
    assert run.finished_at >= run.started_at


@pytest.mark.django_db
def test_ingesting_the_same_day_twice_changes_nothing(recorded_arxiv):
    _ingest("--date", "2026-06-18", "--categories", "cs.CL,cs.AI,cs.LG")
    before = list(Paper.objects.order_by("pk").values_list("pk", "version", "updated_at"))

    output = _ingest("--date", "2026-06-18", "--categories", "cs.CL,cs.AI,cs.LG")

    assert "0 new, 0 changed, 22 unchanged" in output
    assert list(Paper.objects.order_by("pk").values_list("pk", "version", "updated_at")) == before


@pytest.mark.django_db
@pytest.mark.parametrize("batch", [1, 5, 7, 22, 100])
def test_api_requests_are_one_per_batch(recorded_arxiv, monkeypatch, batch):
    monkeypatch.setattr(ingest_module, "API_BATCH", batch)

    report = day_ingest(categories=DEMO_CATEGORIES, date=DAY)

    assert report.created == 22
    assert report.api_requests == math.ceil(22 / batch)
    assert len(_api_requests(recorded_arxiv)) == math.ceil(22 / batch)


@pytest.mark.django_db
def test_a_new_version_of_a_known_paper_updates_it_and_keeps_the_history(
    recorded_arxiv, serve_arxiv, tmp_path
):
    # given the recorded day ingested
    day_ingest(categories=DEMO_CATEGORIES, date=DAY)
    # when the next day announces v2 of one of its papers
    next_day = dt.date(2026, 6, 19)
    folder = day_write(
        tmp_path,
        next_day,
        [
            FakePaper(
                "2606.18831",
                "Beyond Reward Engineering: A Data Recipe for Long-Context RL (revised)",
                version=2,
                announce_type="replace",
                categories=["cs.CL", "cs.AI"],
                comment="Accepted by ACL 2026",
            )
        ],
    )
    serve_arxiv(folder)
    report = day_ingest(categories=["cs.CL", "cs.AI"], date=next_day)

    # then the row is updated in place and marked as a replacement
    assert (report.created, report.updated) == (0, 1)
    paper = Paper.objects.get(arxiv_id="2606.18831")
    assert (paper.version, paper.version_history) == (2, [1])
    assert (paper.announce_type, paper.announce_date) == ("replace", next_day)
    assert paper.title.endswith("(revised)")
    assert paper.comment == "Accepted by ACL 2026"
    assert Paper.objects.count() == 22


@pytest.mark.django_db
def test_an_empty_day_is_recorded_and_makes_no_digest(serve_arxiv, shared_recordings, tmp_path):
    # given arXiv's real feed of a day without announcement
    folder = tmp_path / "2026-03-29"
    (folder / "rss").mkdir(parents=True)
    empty = (shared_recordings / "arxiv-rss-cs-empty-2026-03-29.xml").read_bytes()
    (folder / "rss" / "cs.CL.xml").write_bytes(empty)
    server = serve_arxiv(folder)
    make_subscriber(categories=["cs.CL"], min_relevance=0)

    # when the day runs
    ingest, send = daily_run(date=dt.date(2026, 3, 29))

    # then no paper, no API request, the day recorded as without announcement, no digest
    assert ingest.status == "none"
    assert IngestDay.objects.get(date=dt.date(2026, 3, 29)).status == "none"
    assert _api_requests(server) == []
    assert send.issue_date is None
    assert Digest.objects.count() == 0


@pytest.mark.django_db
def test_a_stale_feed_is_not_a_new_day(recorded_arxiv, serve_arxiv, tmp_path):
    # given the recorded day ingested
    day_ingest(categories=["cs.CL"], date=DAY)
    # when the next day's feed lists the same papers under the new date
    stale = tmp_path / "2026-06-19"
    (stale / "rss").mkdir(parents=True)
    feed = (recorded_arxiv.recorded.folder / "rss" / "cs.CL.xml").read_text()
    (stale / "rss" / "cs.CL.xml").write_text(feed.replace("Thu, 18 Jun 2026", "Fri, 19 Jun 2026"))
    server = serve_arxiv(stale)
    report = day_ingest(categories=["cs.CL"])

    # then the day is stale, says why, and nothing was fetched or changed
    assert report.status == "stale"
    assert report.date == dt.date(2026, 6, 19)
    day = IngestDay.objects.get(date=dt.date(2026, 6, 19))
    assert day.status == "stale"
    assert "list the 11 papers announced on 2026-06-18" in day.note
    assert _api_requests(server) == []
    assert set(Paper.objects.values_list("announce_date", flat=True)) == {DAY}


@pytest.mark.django_db
def test_an_unknown_category_is_an_error_naming_it_and_the_others_are_kept(recorded_arxiv):
    with pytest.raises(CommandError, match="astroph"):
        _ingest("--date", "2026-06-18", "--categories", "cs.CL,astroph")

    assert Paper.objects.filter(announce_date=DAY).count() == 11


@pytest.mark.django_db
def test_a_malformed_feed_is_a_clear_error(serve_arxiv, tmp_path):
    folder = tmp_path / "2026-06-18"
    (folder / "rss").mkdir(parents=True)
    (folder / "rss" / "cs.CL.xml").write_text("<rss><channel><title>cs.CL</title><item>")
    serve_arxiv(folder)

    with pytest.raises(CommandError, match=r"the feed for cs\.CL is malformed"):
        _ingest("--categories", "cs.CL")
    assert Paper.objects.count() == 0


@pytest.mark.django_db
def test_a_503_then_success_is_retried(recorded_arxiv):
    # given arXiv answering 503 once on the feed and twice on the API
    recorded_arxiv.recorded.fail_next("/rss/cs.CL", 503)
    recorded_arxiv.recorded.fail_next("/api/query", 503, times=2)

    report = day_ingest(categories=["cs.CL"], date=DAY)

    assert report.created == 11
    paths = [p.split("?")[0] for p in recorded_arxiv.recorded.requests]
    assert paths == ["/rss/cs.CL", "/rss/cs.CL", "/api/query", "/api/query", "/api/query"]


@pytest.mark.django_db
def test_arxiv_staying_down_is_a_clear_error_and_keeps_what_was_stored(recorded_arxiv, monkeypatch):
    # given batches of 5 and an API that fails for good after two batches
    monkeypatch.setattr(ingest_module, "API_BATCH", 5)
    recorded_arxiv.recorded.fail_after("/api/query", ok=2, status=503)

    with pytest.raises(CommandError, match="arXiv did not answer after 5 tries"):
        _ingest("--date", "2026-06-18", "--categories", "cs.CL")

    # then the first two batches stay stored, and a second run completes the day
    assert Paper.objects.count() == 10
    recorded_arxiv.recorded.outages.clear()
    output = _ingest("--date", "2026-06-18", "--categories", "cs.CL")
    assert "1 new, 0 changed, 10 unchanged" in output
    assert Paper.objects.count() == 11


@pytest.mark.django_db
def test_hostile_and_non_latin_text_is_stored_as_plain_text(serve_arxiv, tmp_path):
    title = "<script>alert(1)</script> Entropy &amp; $\\alpha$-divergences in 量子 Физика"
    folder = day_write(
        tmp_path,
        DAY,
        [
            FakePaper(
                "2606.20001",
                title,
                abstract="We bound   $\\alpha$-R\u00e9nyi\n  divergences <b>tightly</b> &lt;3.",
                authors=[("Zoë Ğüneş", ["東京大学"]), ("Иван Петров", [])],
            )
        ],
    )
    serve_arxiv(folder)

    day_ingest(categories=["cs.CL"], date=DAY)

    paper = Paper.objects.get(arxiv_id="2606.20001")
    # the XML entities were decoded exactly once; the text is kept as text, whitespace collapsed
    assert paper.title == title
    assert paper.abstract == "We bound $\\alpha$-Rényi divergences <b>tightly</b> &lt;3."
    assert paper.authors == [
        {"name": "Zoë Ğüneş", "affiliations": ["東京大学"]},
        {"name": "Иван Петров", "affiliations": []},
    ]
