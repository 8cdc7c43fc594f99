"""Seed papers: fetched from arXiv by id (over real HTTP, through the real `arxiv` client), kept
as papers of no announcement day, shown in the editor, and never recommended back."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from django.test import Client
from django.utils.html import escape

from digests.arxiv import seeds
from digests.assemble import digest_assemble
from digests.ingest import day_ingest
from digests.models import Paper
from digests.readings import latest_issue_date
from subscribers.models import Subscriber
from subscribers.session import SESSION_KEY, email_fingerprint
from tests.conftest import DEMO_DAY
from tests.factories import make_subscriber

DAY = dt.date(2026, 6, 18)
PROFILE = "/profile/"
PREVIEW = "/profile/preview/"
UNKNOWN = "2606.99999"  # well formed, not a paper arXiv has
_ENTRY = re.compile(r"<entry>.*?<id>\s*https?://arxiv\.org/abs/([^<\s]+?)v\d+\s*</id>.*?"
                    r"<title>(.*?)</title>", re.DOTALL)  # fmt: skip


def _sign_in(client: Client, subscriber: Subscriber) -> None:
    session = client.session
    session[SESSION_KEY] = {"id": subscriber.pk, "fp": email_fingerprint(subscriber.email)}
    session.save()


def _fields(**changes: str) -> dict:
    data = {
        "language": "en", "keywords": "", "exclude_keywords": "", "authors": "",
        "institutions": "", "categories": "", "interests": "", "seed_papers": "",
        "max_items": "20", "min_relevance": "1", "timezone": "UTC", "delivery_time": "08:00",
        "frequency": "daily",
    }  # fmt: skip
    data.update(changes)
    return data


@pytest.fixture
def arxiv_with_older_papers(tmp_path: Path, serve_arxiv, shared_recordings: Path):
    """The demo day, and an API that also knows 25 older papers (a real recorded answer)."""
    folder = tmp_path / "arxiv"
    shutil.copytree(DEMO_DAY, folder)
    older = shared_recordings / "arxiv-api-atom-25entries-all_AI-2026-03-31.xml"
    shutil.copy(older, folder / "api" / "zz-older.xml")
    server = serve_arxiv(folder)
    arxiv_id, title = _ENTRY.search(older.read_text(encoding="utf-8")).groups()
    return server, arxiv_id, " ".join(title.split())


def _day_ingested() -> None:
    report = day_ingest(categories=[p.stem for p in (DEMO_DAY / "rss").glob("*.xml")], date=DAY)
    assert report.announced and report.created > 0


@pytest.mark.django_db
def test_a_seed_is_fetched_over_http_kept_off_every_day_and_never_recommended_back(
    client, arxiv_with_older_papers, django_capture_on_commit_callbacks, monkeypatch
):
    # given the day ingested, and a reader who gives as seeds one of the day's papers, an older
    # paper we do not hold, and an id arXiv does not know
    server, older_id, older_title = arxiv_with_older_papers
    _day_ingested()
    day_count = Paper.objects.filter(announce_date=DAY).count()
    of_the_day = Paper.objects.filter(announce_date=DAY).order_by("arxiv_id").first()
    reader = make_subscriber(language="en", min_relevance=1)
    _sign_in(client, reader)
    asked_before = len(server.recorded.requests)

    # when the reader saves the profile: the editor says the lookup is under way
    with django_capture_on_commit_callbacks(execute=False) as queued:
        seeds_text = f"{of_the_day.arxiv_id}\n{older_id}v1\n{UNKNOWN}"
        response = client.post(PROFILE, _fields(seed_papers=seeds_text))
    assert response.status_code == 302 and len(queued) == 1
    html = client.get(PROFILE).content.decode()
    assert html.count("looking it up…") == 2
    assert f"found: {escape(of_the_day.title)}" in html

    # and then the queued task runs
    queued[0]()

    # then one API request asked arXiv for the two seeds we lacked, through the real client
    asked = server.recorded.requests[asked_before:]
    assert len(asked) == 1 and asked[0].startswith("/api/query?")
    assert older_id in asked[0] and UNKNOWN in asked[0] and of_the_day.arxiv_id not in asked[0]
    # and the older paper is kept, on no announcement day; the unknown id is not
    older = Paper.objects.get(arxiv_id=older_id)
    assert older.title == older_title and older.authors and older.abstract
    assert older.announce_date is None and older.announce_type == "" and not older.announced
    assert not Paper.objects.filter(arxiv_id=UNKNOWN).exists()
    assert Paper.objects.filter(announce_date=DAY).count() == day_count
    assert latest_issue_date(source="papers") == DAY
    # and the editor says what was found and what arXiv does not have
    html = client.get(PROFILE).content.decode()
    assert f"found: {escape(older_title)}" in html
    assert "not found on arXiv" in html and "looking it up…" not in html

    # when the reader's digest is made, and the editor's preview drawn
    digest = digest_assemble(subscriber=Subscriber.objects.get(pk=reader.pk), issue_date=DAY)
    preview = client.post(PREVIEW, _fields(seed_papers=seeds_text)).json()

    # then the seed of the day is recommended to them in neither, though its text scores
    shown = {item.paper.arxiv_id for item in digest.items.all()}
    assert of_the_day.arxiv_id not in shown and older_id not in shown
    assert of_the_day.arxiv_id not in {item["arxiv_id"] for item in preview["items"]}
    # (what the exclusion keeps out: without it, the seed would come first in both)
    monkeypatch.setattr("digests.assemble._seeds_among", lambda subscriber, papers: set())
    again = client.post(PREVIEW, _fields(seed_papers=seeds_text)).json()
    assert again["items"][0]["arxiv_id"] == of_the_day.arxiv_id
    digest.delete()
    digest = digest_assemble(subscriber=Subscriber.objects.get(pk=reader.pk), issue_date=DAY)
    assert digest.items.get(rank=1).paper.arxiv_id == of_the_day.arxiv_id

    # and a second lookup asks arXiv nothing: the found are held, the missing remembered
    asked_before = len(server.recorded.requests)
    assert seeds.seeds_missing_fetch().asked == 0
    assert len(server.recorded.requests) == asked_before


@pytest.mark.django_db
def test_an_ingested_announcement_dates_a_paper_fetched_as_a_seed(arxiv_with_older_papers):
    # given a paper of the demo day fetched earlier as a seed
    make_subscriber(seed_papers=["2606.13795"])
    report = seeds.seeds_missing_fetch()
    assert report.found == ["2606.13795"] and report.api_requests == 1
    assert Paper.objects.get(arxiv_id="2606.13795").announce_date is None

    # when the day is ingested
    _day_ingested()

    # then it is a paper of that day like the others
    paper = Paper.objects.get(arxiv_id="2606.13795")
    assert paper.announce_date == DAY and paper.announce_type == "new"


@pytest.mark.django_db
def test_the_seeds_status_reads_one_query_and_nothing_without_seeds(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert seeds.seeds_status([]) == []
    with django_assert_num_queries(1):
        statuses = seeds.seeds_status(["2401.00001v2", "2401.00001"])
    assert [(s.arxiv_id, s.state) for s in statuses] == [("2401.00001", "pending")]
