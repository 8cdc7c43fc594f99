"""Ingestion against absurd arXiv records, over real HTTP: a bad record never loses the day.

Each test serves a day through the replay server (`devtools.arxiv_replay`), so the real feed
parser and the real `arxiv` client read the records as arXiv would send them.
"""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from pathlib import Path

import pytest

from devtools.arxiv_fixtures import FakePaper, day_write
from digests.arxiv import records
from digests.arxiv.client import ArxivUnavailable
from digests.daily import daily_run
from digests.ingest import day_ingest
from digests.models import Digest, IngestDay, Paper
from tests.factories import make_subscriber

DAY = dt.date(2026, 6, 18)
ABSURD_DOI = "10.1234/" + "x" * 292  # 300 characters: past the column's 255
BIDI = "\u202eevil\u202c \u2066isolated\u2069 \u200emark\u200f"


def _day(tmp_path: Path, *absurd: FakePaper) -> list[FakePaper]:
    papers = [
        FakePaper("2606.30001", "Reward models for long-context post-training", doi="10.48550/x.1"),
        FakePaper("2606.30002", "Distilling reasoning into small language models"),
        *absurd,
    ]
    day_write(tmp_path, DAY, papers)
    return papers


def _absurd(**fields) -> FakePaper:
    values = {
        "arxiv_id": "2606.30003",
        "title": f"An absurd record {BIDI}",
        "doi": ABSURD_DOI,
        "comment": "c" * 50_000,
        "journal_ref": "j" * 5000,
        "categories": ["cs.CL", "not a category!"],
        "authors": [("N" * 1000, ["A" * 900]), ("Grace Hopper", [])],
    }
    values.update(fields)
    return FakePaper(**values)


@pytest.mark.django_db
def test_a_300_character_doi_is_dropped_and_the_days_papers_reach_their_readers(
    serve_arxiv, tmp_path, outbox_dir
):
    # given a day whose third record has a 300-character DOI and other absurd fields
    _day(tmp_path, _absurd())
    serve_arxiv(tmp_path / DAY.isoformat())
    reader = make_subscriber(language="en", categories=["cs.CL"], min_relevance=0)

    # when the day runs end to end
    ingest, send = daily_run(date=DAY)

    # then every paper is stored, the absurd one with its fields bounded or dropped
    assert ingest.status == "announced" and ingest.created == 3 and ingest.skipped == []
    absurd = Paper.objects.get(arxiv_id="2606.30003")
    assert absurd.doi == ""
    assert len(absurd.comment) == records.MAX_COMMENT
    assert len(absurd.journal_ref) == records.MAX_JOURNAL_REF
    assert absurd.categories == ["cs.CL"]
    assert absurd.title == "An absurd record evil isolated mark"  # bidi controls removed
    assert len(absurd.authors[0]["name"]) == records.MAX_NAME
    assert Paper.objects.get(arxiv_id="2606.30001").doi == "10.48550/x.1"
    # and the day says what was cut, for staff
    day = IngestDay.objects.get(date=DAY)
    assert day.status == "announced" and day.skipped == []
    repaired = {(r["arxiv_id"], r["field"]) for r in day.repaired}
    assert {("2606.30003", "doi"), ("2606.30003", "comment"), ("2606.30003", "categories")} <= (
        repaired
    )
    doi = next(r for r in day.repaired if r["field"] == "doi")
    assert doi["reason"] == "not a DOI (300 characters): dropped"
    # and the digest went out with the day's papers
    assert send.sent == 1
    digest = Digest.objects.get(subscriber=reader)
    sent = set(digest.items.values_list("paper__arxiv_id", flat=True))
    assert {"2606.30001", "2606.30002"} <= sent
    [path] = outbox_dir.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert (
        "Reward models for long-context post-training" in message.get_body(("plain",)).get_content()
    )


@pytest.mark.django_db
def test_a_record_the_database_refuses_is_skipped_with_its_reason_and_the_others_stored(
    serve_arxiv, tmp_path, monkeypatch
):
    # given the DOI check switched off, so the 300-character DOI reaches the database
    monkeypatch.setattr(records, "_doi", lambda raw, problems: raw or "")
    _day(tmp_path, _absurd())
    serve_arxiv(tmp_path / DAY.isoformat())

    report = day_ingest(categories=["cs.CL"], date=DAY)

    # then that record alone is skipped, and why is on the day
    assert sorted(Paper.objects.values_list("arxiv_id", flat=True)) == ["2606.30001", "2606.30002"]
    assert report.created == 2 and report.status == "announced"
    day = IngestDay.objects.get(date=DAY)
    [skipped] = day.skipped
    assert skipped["arxiv_id"] == "2606.30003"
    assert skipped["reason"].startswith("not stored: DataError: value too long")
    assert "1 records skipped as invalid" in day.note
    assert "1 skipped as invalid" in report.summary()


@pytest.mark.django_db
def test_an_unreadable_record_and_a_bad_feed_item_are_skipped_alone(serve_arxiv, tmp_path):
    # given a record whose date the `arxiv` parser cannot read (it fails the whole page) and
    # a feed item whose id is not an arXiv id
    _day(tmp_path, _absurd(arxiv_id="2606.30004", doi=""))
    folder = tmp_path / DAY.isoformat()
    api = folder / "api" / "query.xml"
    text = api.read_text()
    entry = text.index("<id>http://arxiv.org/abs/2606.30004v1</id>")
    published = text.index("<published>", entry)
    end = text.index("</published>", published)
    api.write_text(text[:published] + "<published>yesterday-ish" + text[end:])
    feed = folder / "rss" / "cs.CL.xml"
    feed.write_text(feed.read_text().replace("oai:arXiv.org:2606.30002v1", "oai:arXiv.org:junk"))
    server = serve_arxiv(folder)

    report = day_ingest(categories=["cs.CL"], date=DAY)

    # then the readable, well-listed paper is stored and the two others are said
    assert list(Paper.objects.values_list("arxiv_id", flat=True)) == ["2606.30001"]
    reasons = {s["arxiv_id"]: s["reason"] for s in IngestDay.objects.get(date=DAY).skipped}
    assert reasons["2606.30004"].startswith("the API's record is unreadable: ValueError")
    assert reasons[""] == "cs.CL feed: not an arXiv id with a version: 'oai:arXiv.org:junk'"
    assert report.missing == []
    # the page of the two ids listed was asked again in halves: 1 + 2 requests
    assert len([p for p in server.recorded.requests if p.startswith("/api/")]) == 3


@pytest.mark.django_db
def test_arxiv_down_mid_day_marks_the_day_failed_and_a_later_run_completes_it(
    serve_arxiv, tmp_path
):
    # given arXiv's API answering 503 to every try
    _day(tmp_path)
    server = serve_arxiv(tmp_path / DAY.isoformat())
    server.recorded.fail_after("/api/query", ok=0, status=503)

    # when the day is ingested, it fails transiently and says so on the day
    with pytest.raises(ArxivUnavailable):
        day_ingest(categories=["cs.CL"], date=DAY)
    day = IngestDay.objects.get(date=DAY)
    assert day.status == "failed"
    assert "arXiv did not answer after 5 tries" in day.note and "tried again later" in day.note

    # and the retry, once arXiv is back, ingests the day
    server.recorded.outages.clear()
    assert day_ingest(categories=["cs.CL"], date=DAY).created == 2
    assert IngestDay.objects.get(date=DAY).status == "announced"

    # and a later failure never takes an ingested day back to "failed"
    server.recorded.fail_after("/api/query", ok=0, status=503)
    with pytest.raises(ArxivUnavailable):
        day_ingest(categories=["cs.CL"], date=DAY)
    assert IngestDay.objects.get(date=DAY).status == "announced"


def test_dois_dates_ids_and_categories_are_checked_field_by_field():
    problems: list[tuple[str, str]] = []
    assert records._doi("10.1145/3580305.3599500 10.48550/arXiv.2301.1", problems) == (
        "10.1145/3580305.3599500 10.48550/arXiv.2301.1"
    )
    assert records._doi("see https://example.org", problems) == ""
    assert records._moment(dt.datetime(1900, 1, 1, tzinfo=dt.UTC), "published", problems) is None
    assert [name for name, _ in problems] == ["doi", "published"]
    assert records.versioned_id_split("oai:arXiv.org:hep-th/9901001v3") == ("hep-th/9901001", 3)
    with pytest.raises(records.RecordError):
        records.versioned_id_split("2606.12345v999999")
    with pytest.raises(records.RecordError):
        records.versioned_id_split("2606.12345v0")
