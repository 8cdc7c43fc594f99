"""The day at a glance: its figures match the database, its charts the history, staff only."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from digests.daily import daily_run, day_enrich, digests_send
from digests.models import (
    AnnounceType,
    Delivery,
    Digest,
    IngestDay,
    Paper,
    PipelineStep,
    StepRun,
)
from staff.charts import bars_svg, lines_svg
from staff.dashboard import dashboard_day, dashboard_default_day, delivery_history
from staff.views import HISTORY_DAYS
from tests.factories import (
    make_delivery,
    make_digest,
    make_enrichment,
    make_paper,
    make_subscriber,
    make_topic,
)

DAY = dt.date(2026, 6, 18)
NOW = timezone.make_aware(dt.datetime(2026, 6, 19, 9, 0))
SVG = "{http://www.w3.org/2000/svg}"
EMPTY_EN = "No paper reached your minimum relevance today."
EMPTY_ZH = "今天没有论文达到您的最低相关度。"
# Dashboard: neighbours, ingest day, papers by type, readings, digests × deliveries, step runs.
DASHBOARD_QUERIES = 6
# The page: session and user, the dashboard, 30 days of deliveries, 30 days of papers by source.
PAGE_QUERIES = 2 + DASHBOARD_QUERIES + 1 + 1


def ingest_day(date: dt.date, status: str = IngestDay.Status.ANNOUNCED, **fields) -> IngestDay:
    return IngestDay.objects.create(date=date, status=status, started_at=NOW, **fields)


def step_run(step: str, *, seconds: float | None, ok: bool = True, **fields) -> StepRun:
    started = fields.pop("started_at", NOW)
    finished = started + dt.timedelta(seconds=seconds) if seconds is not None else None
    return StepRun.objects.create(
        day=fields.pop("day", DAY),
        step=step,
        started_at=started,
        finished_at=finished,
        ok=ok,
        **fields,
    )


def digest_with(status: str, *, delivery: dict | None = None, day: dt.date = DAY, note: str = ""):
    digest = make_digest(issue_date=day, status=status, note=note)
    if delivery is not None:
        make_delivery(digest=digest, **delivery)
    return digest


def build_fixture_day() -> None:
    """A day with known counts, and a few rows of other days that must not be counted."""
    for announce_type, count in [
        (AnnounceType.NEW, 3),
        (AnnounceType.CROSS, 2),
        (AnnounceType.REPLACE, 1),
        (AnnounceType.REPLACE_CROSS, 1),
    ]:
        for _ in range(count):
            make_paper(announce_date=DAY, announce_type=announce_type)
    papers = list(Paper.objects.order_by("pk"))
    for paper, status in zip(papers, ["ok", "ok", "ok", "failed", "skipped"], strict=False):
        make_enrichment(paper=paper, status=status)
    # a paper now at version 2 whose only reading is of version 1: still pending
    papers[5].version = 2
    papers[5].save()
    make_enrichment(paper=papers[5], paper_version=1)
    # papers[6] has no reading at all
    other = make_paper(announce_date=DAY - dt.timedelta(days=1))
    make_enrichment(paper=other, status="failed")

    sent_at = NOW - dt.timedelta(hours=3)
    digest_with(
        "sent", delivery={"status": "sent", "sent_at": sent_at, "opened_at": NOW, "clicked_at": NOW}
    )
    digest_with("sent", delivery={"status": "delivered", "sent_at": sent_at, "opened_at": NOW})
    digest_with("sent", delivery={"status": "bounced", "sent_at": sent_at})
    digest_with("empty", note=EMPTY_EN)
    digest_with("empty", note=EMPTY_EN)
    digest_with("empty", note=EMPTY_ZH)
    digest_with("assembled", delivery={"status": "failed", "last_error": "refused"})
    digest_with("assembled", delivery={"status": "queued"})
    digest_with(
        "assembled", delivery={"status": "sending", "claimed_at": NOW - dt.timedelta(hours=2)}
    )
    digest_with("assembled", delivery={"status": "sending", "claimed_at": NOW})
    digest_with("assembled")
    digest_with("sent", day=DAY - dt.timedelta(days=1), delivery={"status": "sent"})

    ingest_day(DAY, listed=7, created=6, updated=1, note="cs.XX: rejected by arXiv")
    ingest_day(DAY - dt.timedelta(days=3), IngestDay.Status.ANNOUNCED)
    ingest_day(DAY - dt.timedelta(days=1), IngestDay.Status.STALE)
    ingest_day(DAY + dt.timedelta(days=3), IngestDay.Status.NONE)

    step_run(PipelineStep.INGEST, seconds=12, counts={"status": "announced", "listed": 7})
    step_run(PipelineStep.ENRICH, seconds=3, ok=False, note="APIConnectionError: down")
    step_run(
        PipelineStep.ENRICH,
        seconds=40,
        started_at=NOW + dt.timedelta(minutes=5),
        counts={"enriched": 3, "failed": 1},
    )
    step_run(PipelineStep.SEND, seconds=5, counts={"sent": 2, "failed": 1})
    step_run(
        PipelineStep.SEND,
        seconds=2,
        started_at=NOW + dt.timedelta(hours=1),
        counts={"sent": 1, "failed": 0},
    )
    step_run(PipelineStep.ASSEMBLE, seconds=None, ok=False)
    step_run(PipelineStep.INGEST, seconds=1, day=DAY - dt.timedelta(days=1))


@pytest.mark.django_db
def test_the_dashboards_figures_match_the_database_on_a_fixture_day():
    # given a day with known papers, readings, digests, deliveries, ingestion and step runs
    build_fixture_day()

    # when its figures are computed
    board = dashboard_day(day=DAY, now=NOW)

    # then every figure is the day's own
    assert board.papers.by_type == {"new": 3, "cross": 2, "replace": 1, "replace-cross": 1}
    assert board.papers.total == 7
    assert board.papers.readings == {"ok": 3, "failed": 1, "skipped": 1}
    assert board.papers.unread == 2
    assert (board.digests.made, board.digests.sent, board.digests.empty) == (11, 3, 3)
    assert (board.digests.failed, board.digests.waiting) == (1, 4)
    assert board.digests.empty_reasons == {EMPTY_EN: 2, EMPTY_ZH: 1}
    assert board.deliveries.by_status == {
        "queued": 1,
        "sending": 2,
        "sent": 1,
        "delivered": 1,
        "bounced": 1,
        "complained": 0,
        "failed": 1,
    }
    assert (board.deliveries.stuck, board.deliveries.opened, board.deliveries.clicked) == (1, 2, 1)
    assert board.ingest is not None and board.ingest.note == "cs.XX: rejected by arXiv"
    assert board.previous == DAY - dt.timedelta(days=1)
    assert board.next == DAY + dt.timedelta(days=3)
    # and the steps in pipeline order, each run of a step taken together
    steps = {step.step: step for step in board.steps}
    assert [step.step for step in board.steps] == [s.value for s in PipelineStep]
    assert (steps["ingest"].runs, steps["ingest"].seconds) == (1, 12)
    assert steps["ingest"].counts == {"status": "announced", "listed": 7}
    assert (steps["enrich"].runs, steps["enrich"].failed, steps["enrich"].seconds) == (2, 1, 43)
    assert steps["enrich"].started_at == NOW
    assert steps["enrich"].finished_at == NOW + dt.timedelta(minutes=5, seconds=40)
    assert steps["send"].counts == {"sent": 3, "failed": 1}
    assert (steps["assemble"].runs, steps["assemble"].unfinished) == (1, 1)
    assert steps["briefs"].runs == 0


class FigureTables(HTMLParser):
    """{caption: {label: (value, href)}} from the page's figure tables."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, tuple[int, str]]] = {}
        self._caption = self._label = self._href = ""
        self._in = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("class") == "figures":
            self._caption = "?"
        elif self._caption and tag in {"caption", "th", "td"}:
            self._in = tag
            self._href = ""
        elif self._in == "td" and tag == "a":
            self._href = attributes["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._caption = ""
        if tag == self._in:
            self._in = ""

    def handle_data(self, data: str) -> None:
        if self._in == "caption":
            self._caption = data.strip()
            self.tables[self._caption] = {}
        elif self._in == "th":
            self._label = data.strip()
        elif self._in == "td" and data.strip():
            self.tables[self._caption][self._label] = (int(data), self._href)


def figure_tables(html: str) -> dict[str, dict[str, tuple[int, str]]]:
    parser = FigureTables()
    parser.feed(html)
    return parser.tables


@pytest.mark.django_db
def test_the_page_shows_the_same_figures_each_linked_to_its_filtered_list(
    admin_client: Client, monkeypatch
):
    # given the fixture day, seen at the same moment as above
    build_fixture_day()
    monkeypatch.setattr("staff.dashboard.timezone.now", lambda: NOW)

    # when staff open its page
    response = admin_client.get(reverse("admin:digests_dashboard_day", args=["2026-06-18"]))

    # then each figure is shown, linked to the admin list holding those rows
    assert response.status_code == 200
    tables = figure_tables(response.content.decode())
    papers = "/admin/digests/paper/?announce_date=2026-06-18"
    assert tables["Papers"] == {
        "ingested": (7, papers),
        "new": (3, papers + "&announce_type=new"),
        "cross-list": (2, papers + "&announce_type=cross"),
        "replacement": (1, papers + "&announce_type=replace"),
        "replacement of a cross-list": (1, papers + "&announce_type=replace-cross"),
        "from arXiv": (7, papers + "&source=arxiv"),
        "from bioRxiv": (0, papers + "&source=biorxiv"),
        "from medRxiv": (0, papers + "&source=medrxiv"),
    }
    readings = {label: value for label, (value, _) in tables["Readings (paper × language)"].items()}
    assert readings == {
        "ok": 3,
        "failed (shown untranslated)": 1,
        "skipped: daily token budget spent": 1,
        "LLM-less (extractive, untranslated)": 0,
        "papers with no reading yet (pending)": 2,
    }
    digests = "/admin/digests/digest/?issue_date=2026-06-18"
    deliveries = "/admin/digests/delivery/?digest__issue_date=2026-06-18"
    assert tables["Digests"] == {
        "made": (11, digests),
        "sent": (3, digests + "&status=sent"),
        "failed": (1, deliveries + "&status=failed"),
        "skipped as empty": (3, digests + "&status=empty"),
        "assembled, not sent yet": (4, ""),
    }
    assert tables["Deliveries"]["sending (claimed)"] == (2, deliveries + "&status=sending")
    assert tables["Deliveries"]["stuck in sending"] == (1, deliveries + "&stuck=yes")
    assert tables["Deliveries"]["opened"] == (2, deliveries + "&opened_at__isnull=False")
    assert {label: value for label, (value, _) in tables["Deliveries"].items()} == {
        "queued": 1,
        "sending (claimed)": 2,
        "sent": 1,
        "delivered": 1,
        "bounced": 1,
        "complained": 0,
        "failed": 1,
        "stuck in sending": 1,
        "opened": 2,
        "clicked": 1,
    }
    # and the lists those links open agree with the figures
    assert admin_client.get(papers + "&announce_type=new").context["cl"].result_count == 3
    assert admin_client.get(deliveries + "&stuck=yes").context["cl"].result_count == 1
    assert admin_client.get(digests + "&status=empty").context["cl"].result_count == 3
    # and the ingestion note, the empty reasons and the step timings are on the page
    page = response.content.decode()
    assert "cs.XX: rejected by arXiv" in page
    assert EMPTY_ZH in page
    assert "APIConnectionError: down" in page
    assert 'href="/admin/dashboard/2026-06-17/" rel="prev"' in page
    assert 'href="/admin/dashboard/2026-06-21/" rel="next"' in page


@pytest.mark.django_db
def test_the_dashboard_costs_the_same_queries_for_a_small_or_a_big_day(
    admin_client: Client, django_assert_num_queries
):
    # given a small day
    build_fixture_day()
    url = reverse("admin:digests_dashboard_day", args=["2026-06-18"])
    with django_assert_num_queries(DASHBOARD_QUERIES):
        dashboard_day(day=DAY)
    with django_assert_num_queries(PAGE_QUERIES):
        assert admin_client.get(url).status_code == 200

    # when it grows: more papers, digests and deliveries, over more days
    for n in range(20):
        day = DAY - dt.timedelta(days=n % 10)
        paper = make_paper(announce_date=day, announce_type=AnnounceType.CROSS)
        make_enrichment(paper=paper, status="failed" if n % 2 else "ok")
        digest_with("sent", day=day, delivery={"status": "sent", "sent_at": NOW})
        step_run(PipelineStep.SEND, seconds=1, day=day)

    # then the figures and the page cost the same number of queries
    with django_assert_num_queries(DASHBOARD_QUERIES):
        board = dashboard_day(day=DAY)
    assert board.papers.by_type["cross"] == 2 + 2
    with django_assert_num_queries(PAGE_QUERIES):
        assert admin_client.get(url).status_code == 200


@pytest.mark.django_db
def test_the_dashboard_opens_on_the_latest_announcement_and_the_picker_goes_to_a_day(
    admin_client: Client,
):
    # given announcements on two days and a later day without one
    ingest_day(DAY - dt.timedelta(days=1))
    ingest_day(DAY)
    ingest_day(DAY + dt.timedelta(days=2), IngestDay.Status.NONE)

    # when staff open the dashboard without a day, then it shows the latest announcement
    response = admin_client.get(reverse("admin:digests_dashboard"))
    assert response.status_code == 200
    assert dashboard_default_day() == DAY
    assert response.context["board"].day == DAY

    # when they pick a day, then they land on its page
    picked = admin_client.get(reverse("admin:digests_dashboard") + "?day=2026-06-17")
    assert picked.status_code == 302
    assert picked["Location"] == "/admin/dashboard/2026-06-17/"
    # and a day that is not a date is not found
    assert admin_client.get("/admin/dashboard/2026-13-45/").status_code == 404


def parse_svg(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own markup, drawn by the test


def svg_bars(svg: str) -> list[ET.Element]:
    return parse_svg(svg).findall(f".//{SVG}rect[@class='bar']")


@pytest.mark.django_db
def test_the_sending_chart_has_one_bar_per_day_as_tall_as_its_sends():
    # given 4 digests sent for DAY, 2 for two days before, one bounce, nothing on the other days
    for _ in range(4):
        digest_with("sent", delivery={"status": "sent", "sent_at": NOW})
    for _ in range(2):
        digest_with(
            "sent", day=DAY - dt.timedelta(days=2), delivery={"status": "sent", "sent_at": NOW}
        )
    digest_with("sent", delivery={"status": "bounced", "sent_at": NOW})
    digest_with(
        "sent", day=DAY - dt.timedelta(days=40), delivery={"status": "sent", "sent_at": NOW}
    )

    # when the last 30 days are charted
    history = delivery_history(end=DAY, days=HISTORY_DAYS)
    labels = [day.strftime("%m-%d") for day in history.days]
    svg = bars_svg(title="Sent", labels=labels, series={"sent": history.sent})

    # then there is one bar per calendar day, each titled with its day and count
    bars = svg_bars(svg)
    assert len(bars) == 30
    assert bars[0].get("data-label") == "05-20" and bars[-1].get("data-label") == "06-18"
    heights = {bar.get("data-label"): float(bar.get("height")) for bar in bars}
    assert heights["06-18"] == pytest.approx(2.5 * heights["06-16"])  # the bounce was sent too
    assert heights["06-17"] == 0
    assert bars[-1].find(f"{SVG}title").text == "06-18: 5"
    assert history.bounced[-1] == 1 and sum(history.bounced) == 1
    assert not history.tracked


def test_stacked_bars_add_up_and_the_limit_line_sits_at_its_value():
    # given two series and a limit
    svg = bars_svg(
        title="Tokens",
        labels=["a", "b"],
        series={"enrich": [300, 100], "brief": [100, 0]},
        limit=500,
        limit_label="budget",
    )

    # when it is parsed
    root = parse_svg(svg)
    bars = svg_bars(svg)

    # then each label has one rect per series, stacked, and the limit is where 500 would end
    assert [(b.get("data-label"), b.get("data-series")) for b in bars] == [
        ("a", "enrich"),
        ("a", "brief"),
        ("b", "enrich"),
        ("b", "brief"),
    ]
    enrich_a, brief_a = bars[0], bars[1]
    assert float(brief_a.get("y")) + float(brief_a.get("height")) == pytest.approx(
        float(enrich_a.get("y"))
    )
    assert float(enrich_a.get("height")) == pytest.approx(3 * float(brief_a.get("height")))
    limit = root.find(f".//{SVG}line[@class='limit']")
    base = float(enrich_a.get("y")) + float(enrich_a.get("height"))
    top_of_a = float(brief_a.get("y"))
    assert (base - float(limit.get("y1"))) == pytest.approx((base - top_of_a) * 500 / 400)


def test_chart_text_is_escaped():
    # given hostile text in a title, a label and a series name
    hostile = '<script>alert("x")</script>&'

    # when charts are drawn with it
    for svg in (
        bars_svg(title=hostile, labels=[hostile], series={hostile: [1]}),
        lines_svg(title=hostile, labels=[hostile], series={hostile: [1]}),
    ):
        # then the SVG still parses, holds no script element, and shows the text as text
        root = parse_svg(svg)
        assert root.find(f".//{SVG}script") is None and root.find(".//script") is None
        assert root.find(f"{SVG}title").text == hostile
        assert "<script>" not in svg


@pytest.mark.django_db
def test_opens_and_clicks_are_charted_only_when_the_esp_reports_them(admin_client: Client):
    # given a sent digest without opens
    digest_with("sent", delivery={"status": "sent", "sent_at": NOW})
    url = reverse("admin:digests_dashboard_day", args=["2026-06-18"])

    # when staff open the dashboard, then it says tracking reported nothing
    page = admin_client.get(url).content.decode()
    assert "reported no opens or clicks" in page
    assert len(admin_client.get(url).context["charts"]) == 2

    # when the ESP reports an open, then the opens chart appears with a point per day
    Delivery.objects.update(opened_at=NOW)
    charts = admin_client.get(url).context["charts"]
    assert len(charts) == 3
    points = parse_svg(charts[2]).findall(f".//{SVG}circle[@data-series='opened']")
    assert len(points) == 30 and points[-1].get("data-value") == "1"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["admin:digests_dashboard", "admin:digests_spending"])
def test_the_staff_pages_are_for_staff_only(client: Client, django_user_model, name: str):
    url = reverse(name)
    # given no one signed in: sent to the admin login
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("admin:login"))

    # given a signed-in user who is not staff: refused, sent to the login too
    reader = django_user_model.objects.create_user(username="reader", password="pw-123456")
    client.force_login(reader)
    refused = client.get(url)
    assert refused.status_code == 302
    assert refused["Location"].startswith(reverse("admin:login"))

    # given a staff member (no other permission needed): the page
    staff = django_user_model.objects.create_user(username="ops", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_the_admin_index_links_to_the_staff_pages(admin_client: Client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("admin:digests_dashboard")}"' in page
    assert f'href="{reverse("admin:digests_spending")}"' in page


# Step timings, recorded by the pipeline itself.


@pytest.mark.django_db
def test_a_daily_run_records_each_steps_start_end_and_counts(recorded_arxiv, outbox_dir):
    # given a reader following a topic of the recorded day
    topic = make_topic(
        slug="post-training",
        categories=["cs.CL", "cs.AI", "cs.LG"],
        keywords=["reinforcement learning", "distillation"],
    )
    make_subscriber(email="ada@example.org", topics=[topic], min_relevance=10)

    # when the whole pipeline runs for the recorded day
    daily_run(date=DAY)

    # then each step has one finished, successful run filed under the day, with its counts
    runs = {run.step: run for run in StepRun.objects.filter(day=DAY)}
    assert sorted(runs) == sorted(s.value for s in PipelineStep)
    assert StepRun.objects.count() == 5
    for run in runs.values():
        assert run.ok and run.finished_at >= run.started_at and run.note == ""
    assert runs["ingest"].counts["listed"] == 22
    assert runs["ingest"].counts["status"] == "announced"
    assert runs["enrich"].counts["papers"] == 22
    assert runs["assemble"].counts == {"assembled": 1}
    assert runs["send"].counts["sent"] == 1
    order = [PipelineStep(s) for s in ("ingest", "enrich", "briefs", "assemble", "send")]
    assert [runs[s].started_at for s in order] == sorted(runs[s].started_at for s in order)
    # and the dashboard shows them
    steps = {step.step: step for step in dashboard_day(day=DAY).steps}
    assert all(steps[s].runs == 1 and steps[s].failed == 0 for s in order)


@pytest.mark.django_db
def test_a_step_that_raises_is_recorded_as_failed_and_still_raises(monkeypatch):
    # given an enrichment that breaks
    def broken(**kwargs):
        raise RuntimeError("the LLM server fell over")

    monkeypatch.setattr("digests.daily.papers_enrich", broken)

    # when the day is enriched, then the error goes on as before
    with pytest.raises(RuntimeError):
        day_enrich(date=DAY)

    # and the run says so
    run = StepRun.objects.get()
    assert (run.step, run.day, run.ok) == ("enrich", DAY, False)
    assert run.finished_at is not None
    assert run.note == "RuntimeError: the LLM server fell over"


@pytest.mark.django_db
def test_a_quarter_hourly_send_with_nobody_due_leaves_no_run():
    # given an announced, ready day and no reader due
    ingest_day(DAY, ready_at=NOW)

    # when the send runs, then it records nothing
    report = digests_send(issue_date=DAY, at=NOW)
    assert report.assembled == 0
    assert not StepRun.objects.exists()
    assert Digest.objects.count() == 0
