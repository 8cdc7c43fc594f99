"""LLM spending: per day, model and purpose against the budget, and when the budget ran out."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from digests.enrich import papers_enrich
from digests.models import Enrichment, LLMUsage
from staff.spending import budget_shortfalls, spending_window
from tests.factories import make_enrichment, make_llm_usage, make_paper

DAY = dt.date(2026, 6, 18)
BEFORE = DAY - dt.timedelta(days=1)
SVG = "{http://www.w3.org/2000/svg}"
BUDGET = 100_000
# Usage rows of the window; readings skipped for the budget.
SPENDING_QUERIES = 2
# Session and user; the last day spent; the spending.
PAGE_QUERIES = 2 + 1 + SPENDING_QUERIES


@pytest.fixture(autouse=True)
def _budget(settings) -> None:
    settings.LLM_DAILY_TOKEN_BUDGET = BUDGET


def parse_svg(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own markup, drawn by the test


def usage(day: dt.date, model: str, purpose: str, tokens_in: int, tokens_out: int, cost: str):
    return make_llm_usage(
        day=day,
        model=model,
        purpose=purpose,
        calls=2,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost=Decimal(cost),
    )


def build_usage() -> None:
    usage(DAY, "gpt-4o-mini", "enrich", 60_000, 20_000, "0.021")
    usage(DAY, "gpt-4o-mini", "brief", 8_000, 2_000, "0.0024")
    usage(DAY, "text-embedding-3-small", "embed", 5_000, 0, "0.0001")
    usage(BEFORE, "gpt-4o-mini", "enrich", 30_000, 10_000, "0.0105")
    usage(DAY - dt.timedelta(days=30), "gpt-4o-mini", "enrich", 1, 1, "9")  # outside the window


@pytest.mark.django_db
def test_spending_per_day_model_and_purpose():
    # given a few days of usage
    build_usage()

    # when the 30 days up to DAY are summed
    spending = spending_window(end=DAY, days=30)

    # then every calendar day is there, each with its own tokens, cost and share of the budget
    assert len(spending.days) == 30
    assert spending.days[0].day == DAY - dt.timedelta(days=29)
    today, yesterday = spending.days[-1], spending.days[-2]
    assert (today.totals.tokens_in, today.totals.tokens_out) == (73_000, 22_000)
    assert today.totals.cost == Decimal("0.0235")
    assert today.totals.calls == 6
    assert today.by_purpose == {"enrich": 80_000, "brief": 10_000, "embed": 5_000}
    assert today.budget_share == pytest.approx(0.95)
    assert yesterday.totals.tokens == 40_000
    assert spending.days[0].totals.tokens == 0
    # and the window's totals per model and purpose
    assert list(spending.by_model_purpose) == [
        ("gpt-4o-mini", "brief"),
        ("gpt-4o-mini", "enrich"),
        ("text-embedding-3-small", "embed"),
    ]
    enrich = spending.by_model_purpose[("gpt-4o-mini", "enrich")]
    assert (enrich.calls, enrich.tokens_in, enrich.tokens_out) == (4, 90_000, 30_000)
    assert enrich.cost == Decimal("0.0315")
    assert spending.totals.tokens == 135_000
    assert spending.budget == BUDGET
    assert spending.warnings == []


@pytest.mark.django_db
def test_the_budget_warning_appears_exactly_when_a_papers_reading_is_still_skipped():
    # given, on DAY: a reading skipped for the budget and never done since
    left_out = make_paper(announce_date=DAY)
    make_enrichment(paper=left_out, language="zh", status="skipped")
    # and one skipped in Chinese but done in English: the Chinese readers still miss it
    half_done = make_paper(announce_date=DAY)
    make_enrichment(paper=half_done, language="zh", status="skipped")
    make_enrichment(paper=half_done, language="en", status="ok")
    # on BEFORE: usage beyond the budget, but every paper read: the budget did not stop anything
    usage(BEFORE, "gpt-4o-mini", "enrich", BUDGET, 5_000, "0.1")
    make_enrichment(paper=make_paper(announce_date=BEFORE), status="ok")
    # two days before: skipped under an older prompt, done since under the current one
    caught_up = make_paper(announce_date=DAY - dt.timedelta(days=2))
    make_enrichment(paper=caught_up, prompt_version="old", status="skipped")
    make_enrichment(paper=caught_up, prompt_version="new", status="ok")
    # three days before: skipped for version 1, but the paper is at version 2 now (and read)
    replaced = make_paper(announce_date=DAY - dt.timedelta(days=3), version=2)
    make_enrichment(paper=replaced, paper_version=1, status="skipped")
    make_enrichment(paper=replaced, paper_version=2, status="ok")
    # four days before: a reading that failed (not the budget)
    make_enrichment(paper=make_paper(announce_date=DAY - dt.timedelta(days=4)), status="failed")

    # when the window is computed
    spending = spending_window(end=DAY, days=30)

    # then only DAY warns, counting readings and papers
    assert [day.day for day in spending.warnings] == [DAY]
    assert (spending.days[-1].skipped_readings, spending.days[-1].skipped_papers) == (2, 2)
    assert spending.days[-2].budget_share > 1 and not spending.days[-2].budget_ran_out
    assert budget_shortfalls(start=BEFORE, end=DAY) == {DAY: (2, 2)}

    # when the skipped readings are done by a later run, then the warning is gone
    Enrichment.objects.filter(status="skipped", paper__announce_date=DAY).update(status="ok")
    assert spending_window(end=DAY, days=30).warnings == []


@pytest.mark.django_db
def test_enrichment_stopped_by_the_budget_raises_the_warning(llm_stub, settings):
    # given a day's papers and a budget too small for a single call
    papers = [make_paper(announce_date=DAY) for _ in range(3)]
    settings.LLM_DAILY_TOKEN_BUDGET = 1

    # when the day is enriched
    report = papers_enrich(papers=papers, languages=["zh"], day=DAY)

    # then no call was made, each reading is recorded as skipped, and the day warns
    assert report.skipped == 3 and report.calls == 0
    assert spending_window(end=DAY, days=30).warnings[0].skipped_papers == 3


@pytest.mark.django_db
def test_the_page_shows_the_chart_the_tables_and_the_warning_of_that_day_only(
    admin_client: Client,
):
    # given usage on two days and a paper left unread for the budget on DAY
    build_usage()
    make_enrichment(paper=make_paper(announce_date=DAY), status="skipped")

    # when staff open the spending page up to DAY
    response = admin_client.get(reverse("admin:digests_spending") + "?end=2026-06-18")
    page = response.content.decode()

    # then the warning names DAY only
    assert response.status_code == 200
    assert page.count('class="glance-warning budget-warning"') == 1
    assert "Budget ran out on 2026-06-18 before the day's papers were enriched" in page
    assert 'class="spending-day budget-ran-out" data-day="2026-06-18"' in page
    assert 'class="spending-day" data-day="2026-06-17"' in page
    # and the tokens chart stacks one bar per day and purpose under the budget line
    tokens = parse_svg(response.context["charts"][0])
    bars = tokens.findall(f".//{SVG}rect[@class='bar']")
    assert len(bars) == 30 * len(LLMUsage.Purpose)
    last = {bar.get("data-series"): bar for bar in bars if bar.get("data-label") == "06-18"}
    assert last["enrichment"].find(f"{SVG}title").text == "06-18 · enrichment: 80,000"
    assert float(last["enrichment"].get("height")) == pytest.approx(
        8 * float(last["brief of the day"].get("height"))
    )
    limit = tokens.find(f".//{SVG}line[@class='limit']")
    assert limit.get("data-value") == str(BUDGET)
    base = float(last["enrichment"].get("y")) + float(last["enrichment"].get("height"))
    enrich_top = float(last["enrichment"].get("y"))
    assert base - float(limit.get("y1")) == pytest.approx((base - enrich_top) * BUDGET / 80_000)
    # and the per-day and per-model tables and the cost chart are there
    assert '<td class="number">73,000</td>' in page
    assert "text-embedding-3-small" in page
    cost = parse_svg(response.context["charts"][1]).findall(f".//{SVG}rect[@class='bar']")
    assert cost[-1].find(f"{SVG}title").text == "06-18: $0.0235"


@pytest.mark.django_db
def test_the_spending_page_costs_the_same_queries_for_few_or_many_rows(
    admin_client: Client, django_assert_num_queries
):
    # given a little usage
    build_usage()
    url = reverse("admin:digests_spending")
    with django_assert_num_queries(SPENDING_QUERIES):
        spending_window(end=DAY, days=30)
    with django_assert_num_queries(PAGE_QUERIES):
        assert admin_client.get(url).status_code == 200

    # when there is usage on every day, with more models, and skipped readings on many days
    for n in range(30):
        day = DAY - dt.timedelta(days=n)
        usage(day, f"model-{n % 4}", "brief", 1_000, 100, "0.001")
        make_enrichment(paper=make_paper(announce_date=day), status="skipped")

    # then the same number of queries
    with django_assert_num_queries(SPENDING_QUERIES):
        assert len(spending_window(end=DAY, days=30).warnings) == 30
    with django_assert_num_queries(PAGE_QUERIES):
        assert admin_client.get(url).status_code == 200


@pytest.mark.django_db
def test_the_spending_page_opens_on_the_last_day_spent(admin_client: Client):
    # given usage up to DAY
    build_usage()

    # when staff open the page without a date, then it ends on DAY
    response = admin_client.get(reverse("admin:digests_spending"))
    assert response.context["end"] == DAY
    # and a bad date is not found
    bad = admin_client.get(reverse("admin:digests_spending") + "?end=yesterday")
    assert bad.status_code == 404
