"""Every reader is served: what ingestion reads (ARXIV_CATEGORIES) for readers who name no
category, and a free-text-only reader served end to end through the plain commands."""

from __future__ import annotations

import datetime as dt
import email
import io
import re
import shutil
from email import policy
from pathlib import Path

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from digests.daily import categories_needed
from digests.ingest import ALL_ARCHIVES
from digests.models import Digest, IngestDay, Paper
from newsletter.config import Config
from tests.conftest import DEMO_DAY, REPO
from tests.digests.test_categories import papers_from_recording
from tests.factories import make_subscriber, make_topic

DAY = dt.date(2026, 6, 18)
_ITEM = re.compile(r"<item>.*?</item>\s*", re.DOTALL)
_GUID = re.compile(r"<guid[^>]*>([^<]+)</guid>")


def all_archives_day(folder: Path) -> Path:
    """The demo day as arXiv's combined feed of every archive would list it (one feed)."""
    shutil.copytree(DEMO_DAY / "api", folder / "api")
    (folder / "rss").mkdir()
    feeds = [p.read_text(encoding="utf-8") for p in sorted((DEMO_DAY / "rss").glob("*.xml"))]
    items: dict[str, str] = {}
    for feed in feeds:
        for item in _ITEM.findall(feed):
            guid = _GUID.search(item)
            assert guid
            items.setdefault(guid.group(1), item)
    head, _, _ = feeds[0].partition("<item>")
    combined = head + "".join(items.values()) + "</channel>\n</rss>\n"
    (folder / "rss" / f"{ALL_ARCHIVES}.xml").write_text(combined, encoding="utf-8")
    return folder


@pytest.mark.django_db
def test_named_categories_are_read_and_a_reader_with_nothing_to_infer_from_reads_all(settings):
    settings.ARXIV_CATEGORIES = "auto"
    topic = make_topic(slug="quantum", categories=["quant-ph"])
    make_subscriber(categories=["cs.CL"], topics=[topic])
    assert categories_needed() == {"cs.CL", "quant-ph"}

    # an authors-only reader: nothing to infer from, so every archive
    make_subscriber(authors=["Yongjin Yang"])
    assert categories_needed() == {ALL_ARCHIVES}


@pytest.mark.django_db
def test_free_text_readers_add_their_inferred_categories_once_papers_are_held(
    settings, shared_recordings
):
    settings.ARXIV_CATEGORIES = "auto"
    make_subscriber(categories=["cs.CL"])
    make_subscriber(interests="black hole mergers and gravitational waves")
    assert categories_needed() == {ALL_ARCHIVES}  # no papers yet: nothing to go on

    papers_from_recording(shared_recordings)

    needed = categories_needed()
    assert "cs.CL" in needed and "gr-qc" in needed and ALL_ARCHIVES not in needed


@pytest.mark.django_db
def test_explicit_lists_and_all_override_the_readers(settings):
    make_subscriber(categories=["cs.CL"])
    settings.ARXIV_CATEGORIES = ("math.PR", "stat")
    assert categories_needed() == {"math.PR", "stat"}
    settings.ARXIV_CATEGORIES = "all"
    assert categories_needed() == {ALL_ARCHIVES}


@pytest.mark.django_db
def test_a_free_text_only_reader_gets_a_digest_through_the_plain_commands(
    serve_arxiv, tmp_path, outbox_dir, settings
):
    # given one reader who only wrote what they read about, and no paper held yet
    settings.ARXIV_CATEGORIES = "auto"
    make_subscriber(
        email="prose@example.org",
        interests="reinforcement learning for reasoning and post-training of language models",
    )
    server = serve_arxiv(all_archives_day(tmp_path / "day"))

    # when the day is ingested, enriched and sent with the plain commands
    out = io.StringIO()
    call_command("ingest", "--date", DAY.isoformat(), stdout=out, stderr=io.StringIO())
    call_command("enrich", "--date", DAY.isoformat(), stdout=out, stderr=io.StringIO())
    call_command("send_digests", "--now", "--date", DAY.isoformat(), stdout=out)

    # then every archive was read in one feed, and the reader got papers about their text
    assert any(path.startswith(f"/rss/{ALL_ARCHIVES}") for path in server.recorded.requests)
    assert IngestDay.objects.get(date=DAY).categories == [ALL_ARCHIVES]
    assert Paper.objects.filter(announce_date=DAY).count() == 22
    digest = Digest.objects.get(subscriber__email="prose@example.org", issue_date=DAY)
    titles = [item.paper.title.lower() for item in digest.items.select_related("paper")]
    assert titles, out.getvalue()
    assert any("reinforcement" in t or "reason" in t or "rl" in t.split() for t in titles[:3])
    (path,) = outbox_dir.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "prose@example.org"

    # and the next day's scope is what the reader seems to read, no longer every archive
    needed = categories_needed()
    assert ALL_ARCHIVES not in needed and needed & {"cs.CL", "cs.LG", "cs.AI"}


@pytest.mark.parametrize(
    ("raw", "read"),
    [("auto", "auto"), ("ALL", "all"), ("cs.CL, cs.AI,stat", ("cs.CL", "cs.AI", "stat"))],
)
def test_the_setting_reads_auto_all_or_a_list(monkeypatch, tmp_path, raw, read):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARXIV_CATEGORIES", raw)
    assert Config(environ.Env(), REPO).arxiv_categories == read


def test_a_malformed_category_list_stops_start_up_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARXIV_CATEGORIES", "cs.CL;cs AI")
    with pytest.raises(ImproperlyConfigured, match="ARXIV_CATEGORIES"):
        Config(environ.Env(), REPO)


@pytest.mark.django_db
def test_llm_calls_stay_within_the_papers_readers_are_shown_whatever_their_number(
    recorded_arxiv, catalogue, llm_stub, settings
):
    # given many readers of every kind, in two languages, on a day of 22 papers
    from digests.enrich import lexical_enrich
    from digests.ingest import day_ingest
    from digests.models import LLMUsage
    from digests.reach import papers_in_reach

    day_ingest(categories=["cs.AI", "cs.CL", "cs.LG"], date=DAY)
    kinds = [
        {"keywords": ["distillation"], "max_items": 3},
        {"interests": "long-context reasoning with reinforcement learning", "max_items": 2},
        {"categories": ["cs.CL"], "max_items": 4},
        {"authors": ["Nobody Known"]},
    ]
    for n in range(80):
        make_subscriber(language=("zh", "en")[n % 2], **kinds[n % len(kinds)])
    papers = list(Paper.objects.filter(announce_date=DAY))
    lexical_enrich(papers)
    reach = papers_in_reach(papers, day=DAY)

    # when the day is enriched with the plain command
    call_command("enrich", "--date", DAY.isoformat(), stdout=io.StringIO(), stderr=io.StringIO())

    # then the LLM read only what some reader in that language would be shown
    shown = len(reach["zh"]) + len(reach["en"])
    assert 0 < shown < 22 * 2
    assert shown <= (3 + 2 + 4) * 2  # at most each kind's max_items, per language
    usage = {row.purpose: row.calls for row in LLMUsage.objects.filter(day=DAY)}
    assert usage["enrich"] == shown
    assert llm_stub.chat_calls == shown + usage.get("brief", 0)


@pytest.mark.django_db
def test_an_authors_only_reader_is_served_by_run_daily(serve_arxiv, tmp_path, outbox_dir, settings):
    # given a reader who follows one author and nothing else, and no paper held yet
    settings.ARXIV_CATEGORIES = "auto"
    make_subscriber(email="fan@example.org", authors=["Pieter Abbeel"], min_relevance=1)
    serve_arxiv(all_archives_day(tmp_path / "day"))

    # when the whole day runs, twice (idempotent)
    for _ in range(2):
        call_command("run_daily", "--date", DAY.isoformat(), stdout=io.StringIO())

    # then every archive was read, and the reader got the author's paper, once
    digest = Digest.objects.get(subscriber__email="fan@example.org", issue_date=DAY)
    authors = [item.paper.author_names for item in digest.items.select_related("paper")]
    assert authors and "Pieter Abbeel" in authors[0]
    assert len(list(outbox_dir.glob("*.eml"))) == 1
