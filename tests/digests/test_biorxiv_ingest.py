"""bioRxiv and medRxiv through their API's stand-in over real HTTP, from real recorded pages:
the issue day's window, cursors, versions, withdrawals and bad input."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from devtools.biorxiv_replay import RECORDED, RecordedPreprints, biorxiv_server_start
from digests.biorxiv.client import BiorxivSession, BiorxivThrottle
from digests.biorxiv.ingest import issue_window, preprints_ingest
from digests.models import AnnounceType, IngestDay, Paper, PaperVersion, ResultType

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
    IngestDay.objects.create(date=day, status=IngestDay.Status.ANNOUNCED, started_at=timezone.now())


def test_monday_takes_friday_to_sunday_and_tuesday_takes_monday() -> None:
    assert issue_window(MONDAY) == (dt.date(2026, 1, 2), dt.date(2026, 1, 4))
    _issue(MONDAY)
    assert issue_window(MONDAY + dt.timedelta(days=1)) == (MONDAY, MONDAY)


def test_a_window_is_read_page_by_page_and_stored_once_per_doi(serve) -> None:
    # given the recorded bioRxiv and medRxiv pages, all posted on the Friday before Monday
    recorded = serve(RecordedPreprints.load(redate=dt.date(2026, 1, 2), copies=2))
    raw = {
        s: json.loads((RECORDED / f).read_text())["collection"]
        for s, f in {
            "biorxiv": "emersusai_biorxiv_details_2026-01-01_2026-04-11_cursor0.json",
            "medrxiv": "emersusai_medrxiv_details_2026-01-01_2026-04-11_cursor0.json",
        }.items()
    }
    # when Monday's issue reads every subject
    report = preprints_ingest(day=MONDAY, categories=ALL, session=_session())
    # then 200 records a server came in two pages each, plus nothing else
    assert report.records == 400
    assert report.requests == 4
    window = "2026-01-02/2026-01-04"
    assert [r.removeprefix("/details/") for r in recorded.requests] == [
        f"biorxiv/{window}/0", f"biorxiv/{window}/100",
        f"medrxiv/{window}/0", f"medrxiv/{window}/100",
    ]  # fmt: skip
    # one paper per DOI (bioRxiv repeats a DOI per version), the withdrawn one never held
    dois = {r["doi"] for rs in raw.values() for r in rs}
    withdrawn = {r["doi"] for r in raw["biorxiv"] if r["type"] == "withdrawn"}
    assert Paper.objects.filter(announce_date=MONDAY).count() == 2 * len(dois - withdrawn)
    assert not Paper.objects.filter(arxiv_id__in=withdrawn).exists()
    assert report.withdrawn == 2 * len(withdrawn)
    # the highest version read is the paper's, the others are its history
    repeated = next(d for d in dois if sum(r["doi"] == d for r in raw["biorxiv"]) > 1)
    versions = sorted(int(r["version"]) for r in raw["biorxiv"] if r["doi"] == repeated)
    paper = Paper.objects.get(arxiv_id=repeated)
    assert paper.version == versions[-1] and paper.version_history == versions[:-1]
    assert sorted(paper.versions.values_list("version", flat=True)) == versions
    # and reading the window again changes nothing
    again = preprints_ingest(day=MONDAY, categories=ALL, session=_session())
    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged == report.created


def test_a_record_becomes_a_paper_of_its_source(serve) -> None:
    serve(RecordedPreprints.load(redate=dt.date(2026, 1, 2)))
    preprints_ingest(day=MONDAY, categories=ALL, session=_session())
    # a medRxiv record: its subject as a category, the corresponding author's institution
    paper = Paper.objects.get(arxiv_id="10.1101/2022.12.14.22283438")
    assert paper.source == "medrxiv" and paper.version == 4
    assert paper.categories == ["medrxiv:rehabilitation_medicine_and_physical_therapy"]
    assert paper.author_names[:2] == ["M. C. Rosenberg", "T. S. Winner"]
    assert paper.authors[-1] == {"name": "Trisha M Kesar", "affiliations": ["Emory University"]}
    assert paper.announce_type == AnnounceType.REPLACE  # v4: its v1 came before our time
    assert paper.abs_url == "https://www.medrxiv.org/content/10.1101/2022.12.14.22283438v4"
    assert paper.html_url.endswith("v4.full") and paper.pdf_url.endswith("v4.full.pdf")
    assert paper.license == "https://creativecommons.org/licenses/by/4.0/"
    # a bioRxiv record published in a journal, of the confirmatory kind
    published = Paper.objects.exclude(doi="").filter(source="biorxiv")
    assert published.count() >= 1 and all(p.doi.startswith("10.") for p in published)
    assert Paper.objects.filter(result_type=ResultType.CONFIRMATORY).count() == 2
    # abstracts hold no JATS flattening left
    for abstract in Paper.objects.values_list("abstract", flat=True):
        assert "O_LI" not in abstract and "C_LI" not in abstract and "{beta}" not in abstract
        assert "SCPLOW" not in abstract and "DTLVardef" not in abstract


def test_only_the_subjects_wanted_are_kept(serve) -> None:
    recorded = serve(RecordedPreprints.load(redate=dt.date(2026, 1, 2)))
    report = preprints_ingest(
        day=MONDAY, categories=["biorxiv:neuroscience", "cs.CL"], session=_session()
    )
    assert {r.split("/")[2] for r in recorded.requests} == {"biorxiv"}  # medRxiv not asked
    held = set(Paper.objects.values_list("primary_category", flat=True))
    assert held == {"biorxiv:neuroscience"} and report.kept == 27


def test_a_new_version_replaces_and_a_withdrawal_takes_the_paper_out(serve) -> None:
    recorded = serve(RecordedPreprints.load(redate=dt.date(2026, 1, 2)))
    preprints_ingest(day=MONDAY, categories=ALL, session=_session())
    _issue(MONDAY)
    paper = Paper.objects.get(arxiv_id="10.1101/2022.12.14.22283438")
    # given the server posts v5 on Monday and withdraws another paper
    tuesday = MONDAY + dt.timedelta(days=1)
    medrxiv = recorded.records["medrxiv"]
    v5 = {**next(r for r in medrxiv if r["doi"] == paper.arxiv_id), "version": "5"}
    v5.update(date=MONDAY.isoformat(), abstract="BackgroundThe new abstract.")
    other = next(r for r in medrxiv if r["doi"] != paper.arxiv_id)
    gone = {**other, "version": str(int(other["version"]) + 1), "date": MONDAY.isoformat()}
    gone["type"] = "withdrawn"
    recorded.records["medrxiv"] += [v5, gone]
    # when Tuesday's issue reads its window (Monday)
    report = preprints_ingest(day=tuesday, categories=ALL, session=_session())
    # then v5 is a replacement of Tuesday, its v4 kept; the withdrawn paper is in no day
    paper.refresh_from_db()
    assert (paper.version, paper.announce_date, paper.announce_type) == (5, tuesday, "replace")
    assert paper.first_announced == MONDAY and paper.abstract == "Background: The new abstract."
    assert PaperVersion.objects.get(paper=paper, version=4).announce_date == MONDAY
    withdrawn = Paper.objects.get(arxiv_id=other["doi"])
    assert withdrawn.result_type == ResultType.WITHDRAWN
    assert withdrawn.announce_date is None and withdrawn.first_announced is None
    assert (report.updated, report.withdrawn) == (1, 1)


@pytest.mark.parametrize("numeric", [False, True])
def test_counts_as_numbers_or_strings_and_faults_lose_nothing(serve, numeric) -> None:
    recorded = serve(RecordedPreprints.load(redate=dt.date(2026, 1, 2), copies=3))
    recorded.numeric_counts = numeric
    # a 503, a body cut short, and a page shorter than the window
    recorded.fail_next("503", "cut", "short")
    report = preprints_ingest(day=MONDAY, categories=["biorxiv:*"], session=_session())
    assert report.records == 300 and not report.failed
    assert "a page of 50" in report.note
    assert Paper.objects.count() == report.created


def test_an_empty_window_and_an_api_down_keep_the_day(serve) -> None:
    recorded = serve(RecordedPreprints.load())  # dated January to April 2026
    empty = preprints_ingest(day=dt.date(2025, 6, 3), categories=ALL, session=_session())
    assert (empty.records, empty.created, empty.failed) == (0, 0, False)
    recorded.fail_next(*["500"] * 5)
    down = preprints_ingest(day=MONDAY, categories=["biorxiv:*"], session=_session())
    assert down.failed and "did not answer after 5 tries" in down.note


def test_one_bad_record_is_skipped_and_said_on_the_day(serve) -> None:
    recorded = serve(RecordedPreprints.load(redate=dt.date(2026, 1, 2)))
    _issue(MONDAY)
    records = recorded.records["biorxiv"]
    records[0] = {**records[0], "doi": "not a doi"}
    records[1] = {**records[1], "title": ""}
    records[2] = {**records[2], "title": "T" * 5000}
    records[3] = {k: v for k, v in records[3].items() if k != "funder"}
    records[4] = {**records[4], "published": "published somewhere"}
    report = preprints_ingest(day=MONDAY, categories=["biorxiv:*"], session=_session())
    day = IngestDay.objects.get(date=MONDAY)
    reasons = [p["reason"] for p in day.skipped]
    assert any("not a DOI" in r for r in reasons) and any("no title" in r for r in reasons)
    assert {p["field"] for p in day.repaired} >= {"title", "published"}
    assert Paper.objects.filter(arxiv_id=records[3]["doi"]).exists()
    assert report.records == 100 and "bioRxiv/medRxiv" in day.note
