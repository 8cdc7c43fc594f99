"""An author we never ingested: their papers looked up through arXiv's author search, over real
HTTP against the local replay of real API answers, through the real `arxiv` client."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from digests.arxiv.author_backfill import (
    author_backfill_claim,
    author_backfill_fetch,
    author_key,
    author_search_query,
)
from digests.models import AuthorBackfill, Paper
from subscribers.ratelimit import Limit
from tests.factories import make_paper

# Real API answers (../shared/arxiv-recorded, read in place): the 25 newest "AI" papers of
# 2026-03-31 and arxiv.py's recorded `testing` search of 100 papers.
RECORDINGS = (
    "arxiv-api-atom-25entries-all_AI-2026-03-31.xml",
    "arxivpy-recorded-q_testing_s0_m100_cfe7536492ca.body.xml",
)


def _recorded_ids(folder: Path, author: str) -> set[str]:
    """The ids of the recorded entries that list `author`, read from the files themselves."""
    found = set()
    for name in RECORDINGS:
        text = (folder / name).read_text(encoding="utf-8")
        for entry in re.findall(r"<entry>.*?</entry>", text, re.DOTALL):
            if f"<name>{author}</name>" in entry:
                found.add(re.search(r"/abs/([^<]+?)v\d+</id>", entry).group(1))  # type: ignore[union-attr]
    return found


@pytest.fixture
def arxiv_search(serve_arxiv, shared_recordings, tmp_path):
    """The replay answering the API from real recorded answers (linked, not copied)."""
    api = tmp_path / "day" / "api"
    api.mkdir(parents=True)
    for name in RECORDINGS:
        (api / name).symlink_to(shared_recordings / name)
    return serve_arxiv(tmp_path / "day")


def _searches(server) -> list[str]:
    return [
        parse_qs(urlsplit(path).query).get("search_query", [""])[0]
        for path in server.recorded.requests
        if path.startswith("/api/query")
    ]


def _author_url(name: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("public:author", args=[name]) + (f"?{query}" if query else "")


def test_search_asks_for_the_spellings_a_follower_meets():
    assert author_search_query("Yongjin Yang") == 'au:"Yongjin Yang" OR au:"Y Yang"'
    assert author_search_query("Yang, Yongjin") == 'au:"Yongjin Yang" OR au:"Y Yang"'
    assert author_search_query("Y. Yang") == 'au:"Y Yang"'
    assert author_search_query("Zoë Ğüneş") == 'au:"Zoe Gunes" OR au:"Z Gunes"'
    # quotes, brackets and operators never reach the query
    hostile = author_search_query('Eve" OR au:"x <script> (Mallory)')
    assert hostile == 'au:"Eve Mallory" OR au:"E Mallory"'
    assert author_search_query("Plato") == ""
    assert author_key("Yang, Yongjin") == author_key("Yongjin  Yang") == "yongjin yang"


@pytest.mark.django_db
def test_lookup_keeps_the_authors_papers_and_not_another_with_their_initial(
    arxiv_search, shared_recordings
):
    # given arXiv's recorded answers, with papers by Jiayi Zhang and by Jianhua Zhang
    theirs = _recorded_ids(shared_recordings, "Jiayi Zhang")
    others = _recorded_ids(shared_recordings, "Jianhua Zhang")
    assert theirs and others and not theirs & others

    # when Jiayi Zhang's papers are looked up
    report = author_backfill_fetch("Jiayi Zhang")

    # then arXiv was asked once for both spellings, and only Jiayi Zhang's papers are kept, as
    # papers of no announcement day (in no day's digest)
    assert _searches(arxiv_search) == ['au:"Jiayi Zhang" OR au:"J Zhang"']
    assert report.error == "" and report.api_requests == 1
    assert report.found >= len(theirs) + len(others)
    row = AuthorBackfill.objects.get(key="jiayi zhang")
    assert row.state == AuthorBackfill.State.DONE and set(row.arxiv_ids) == theirs
    kept = Paper.objects.filter(arxiv_id__in=theirs)
    assert kept.count() == len(theirs)
    assert all(p.announce_date is None and p.announce_type == "" for p in kept)
    assert not Paper.objects.filter(arxiv_id__in=others).exists()


@pytest.mark.django_db
def test_first_visit_queues_the_lookup_and_shows_what_is_held_until_it_is_done(
    client, arxiv_search, shared_recordings, django_capture_on_commit_callbacks
):
    # given an author none of whose papers we ingested
    papers = _recorded_ids(shared_recordings, "Gordon Fraser")
    assert len(papers) == 5

    # when a reader opens their page, before any worker took the lookup
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = client.get(_author_url("Gordon Fraser"))

    # then the page answers at once, says the lookup runs and reloads itself; arXiv not yet asked
    html = first.content.decode()
    assert first.status_code == 200
    assert "Looking up this author's papers on arXiv" in html
    assert '<meta http-equiv="refresh" content="5">' in html
    assert len(queued) == 1 and _searches(arxiv_search) == []

    # when the worker runs the lookup and the page reloads
    queued[0]()
    second = client.get(_author_url("Gordon Fraser"))

    # then it lists their five papers, and no longer reloads
    html = second.content.decode()
    assert second.status_code == 200
    assert sorted(re.findall(r'id="paper-([^"]+)"', html)) == sorted(papers)
    assert "refresh" not in html and "Looking up" not in html
    assert len(_searches(arxiv_search)) == 1

    # and later visits, in any spelling of the name, do not ask arXiv again (cached on the row)
    with django_capture_on_commit_callbacks(execute=True) as again:
        assert client.get(_author_url("Fraser, Gordon")).status_code == 200
    assert again == [] and len(_searches(arxiv_search)) == 1


@pytest.mark.django_db
def test_a_failing_arxiv_leaves_what_we_hold_and_says_the_lookup_failed(
    client, arxiv_search, django_capture_on_commit_callbacks
):
    # given one ingested paper of the author, and an arXiv API answering 503 to every request
    held = make_paper(
        title="A paper we ingested", authors=[{"name": "Gordon Fraser", "affiliations": []}]
    )
    arxiv_search.recorded.fail_after("/api/", 0, 503)

    # when a reader opens the author's page and the lookup runs
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(_author_url("Gordon Fraser"))
    page = client.get(_author_url("Gordon Fraser"))

    # then arXiv was tried with backoff (5 tries), the page still lists the held paper and says
    # the lookup failed, without any address of arXiv's
    assert len(_searches(arxiv_search)) == 5
    row = AuthorBackfill.objects.get(key="gordon fraser")
    assert row.state == AuthorBackfill.State.FAILED and "503" in row.error
    html = page.content.decode()
    assert response.status_code == page.status_code == 200
    assert f'id="paper-{held.arxiv_id}"' in html
    assert "The lookup of this author's papers on arXiv failed" in html
    assert "127.0.0.1" not in html

    # when arXiv is back, a visit within 15 minutes does not try again; one after does
    arxiv_search.recorded.outages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.get(_author_url("Gordon Fraser"))
    assert len(_searches(arxiv_search)) == 5
    AuthorBackfill.objects.update(requested_at=timezone.now() - dt.timedelta(minutes=16))
    with django_capture_on_commit_callbacks(execute=True):
        client.get(_author_url("Gordon Fraser"))
    assert len(_searches(arxiv_search)) == 6
    html = client.get(_author_url("Gordon Fraser")).content.decode()
    assert html.count('class="paper public-paper"') == 6 and "failed" not in html


@pytest.mark.django_db
def test_a_failing_arxiv_with_nothing_held_still_answers_and_says_so(client, arxiv_search):
    # given an arXiv API refusing every request
    arxiv_search.recorded.fail_after("/api/", 0, 500)

    # when the lookup of an author we hold nothing of fails
    report = author_backfill_fetch("Andrea Stocco")
    response = client.get(_author_url("Andrea Stocco"))

    # then the page answers, saying the lookup failed (not that the author has no paper)
    assert report.error.startswith("arXiv did not answer")
    assert response.status_code == 200
    html = response.content.decode()
    assert "failed" in html and "No paper by this author was found" not in html


@pytest.mark.django_db
def test_hostile_unknown_names_are_escaped_and_never_reach_the_query_as_syntax(
    client, arxiv_search, django_capture_on_commit_callbacks
):
    # given a name made of markup and search syntax
    name = '<img src=x onerror=alert(1)> Eve" OR cat:cs.AI'

    # when its page is opened and its lookup runs
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(_author_url(name))
    html = client.get(_author_url(name)).content.decode()

    # then the name is shown as text, the query holds only name words in our own quotes, and
    # with nothing found the page is a 404 that says so
    assert "<img src=x" not in first.content.decode() and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; Eve&quot; OR cat:cs.AI" in html
    [query] = _searches(arxiv_search)
    assert query.count('"') == 4 and "<" not in query and "cat:" not in query
    assert client.get(_author_url(name)).status_code == 404
    assert "No paper by this author was found" in html


@pytest.mark.django_db
def test_one_word_names_are_never_looked_up(client, arxiv_search):
    response = client.get(_author_url("Plato"))
    assert response.status_code == 404
    assert "Author pages need a first and a last name" in response.content.decode()
    assert _searches(arxiv_search) == [] and not AuthorBackfill.objects.exists()


@pytest.mark.django_db
def test_a_lookup_is_claimed_once_until_it_is_due_again():
    assert author_backfill_claim("Yongjin Yang") is True
    assert author_backfill_claim("Y. Yang") is True  # another key: initials only
    assert author_backfill_claim("Yang, Yongjin") is False  # queued already
    AuthorBackfill.objects.filter(key="yongjin yang").update(
        state=AuthorBackfill.State.DONE, fetched_at=timezone.now() - dt.timedelta(days=6)
    )
    assert author_backfill_claim("Yongjin Yang") is False
    AuthorBackfill.objects.filter(key="yongjin yang").update(
        fetched_at=timezone.now() - dt.timedelta(days=8)
    )
    assert author_backfill_claim("Yongjin Yang") is True


@pytest.mark.django_db
def test_a_broker_that_refuses_the_lookup_is_said_on_the_page(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    # given a broker that cannot take the task
    def refuse(*args, **kwargs):
        raise BrokerError("connection refused")

    monkeypatch.setattr("pages.tasks.author_backfill.delay", refuse)

    # when the page is opened
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(_author_url("Yongjin Yang"))

    # then the page answers, and the next one says the lookup failed (tried again later)
    assert response.status_code == 200
    assert AuthorBackfill.objects.get().state == AuthorBackfill.State.FAILED
    assert "could not be queued" in client.get(_author_url("Yongjin Yang")).content.decode()


@pytest.mark.django_db
def test_new_lookups_from_one_address_are_limited(client, settings, monkeypatch):
    # given the per-address limit reached
    monkeypatch.setattr(
        "pages.views.LOOKUPS_PER_IP", Limit(scope="author-lookup-ip", count=2, seconds=60)
    )
    for name in ("Ada Lovelace", "Alan Turing"):
        client.get(_author_url(name))

    # when a third new author is opened from the same address
    response = client.get(_author_url("Grace Hopper"))

    # then no lookup is queued for it and the page says why
    assert AuthorBackfill.objects.count() == 2
    assert "Too many new authors were looked up from your address" in response.content.decode()
