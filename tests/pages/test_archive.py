"""The signed-in reader's archive: the digests they received and the papers they marked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from digests.models import Digest, Feedback
from pages.saved import paper_save
from subscribers.models import Subscriber
from subscribers.tokens import digest_token, signin_token
from tests.factories import (
    make_digest,
    make_digest_item,
    make_feedback,
    make_paper,
    make_subscriber,
)

DAY = dt.date(2026, 6, 18)
HOSTILE = "<script>alert('a')</script> Sparse attention"


def _signed_in(client: Client, subscriber: Subscriber) -> Client:
    client.post(f"/signin/{signin_token(subscriber_id=subscriber.pk, email=subscriber.email)}/")
    return client


def _received(reader: Subscriber, day: dt.date, papers: int) -> Digest:
    digest = make_digest(subscriber=reader, issue_date=day, status=Digest.Status.SENT)
    for n in range(papers):
        make_digest_item(
            digest=digest,
            paper=make_paper(title=f"Paper {day} {n}"),
            reason=f"keyword: sparse attention {n}\nauthor: Ada Lovelace",
        )
    return digest


def _queries(client: Client, path: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured), response.content.decode()


@pytest.mark.django_db
def test_a_visitor_is_sent_to_sign_in(client):
    for path in ("/archive/", "/archive/marked/", "/archive/2026-06-18/", "/saved/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/signin/"


@pytest.mark.django_db
def test_the_archive_lists_received_digests_by_day_with_papers_and_reasons(client):
    # given a reader with two sent digests, one never sent, and another reader's digest
    reader = make_subscriber()
    _received(reader, DAY, 2)
    _received(reader, DAY - dt.timedelta(days=1), 1)
    never_sent = make_digest(subscriber=reader, issue_date=DAY - dt.timedelta(days=2))
    make_digest_item(digest=never_sent, paper=make_paper(title="Never sent paper"))
    _received(make_subscriber(), DAY, 1).items.update(reason="someone else's reason")
    client = _signed_in(client, reader)

    # when they open their archive
    html = client.get("/archive/").content.decode()

    # then they see their received days, newest first, each paper with its reasons
    assert html.index('id="day-2026-06-18"') < html.index('id="day-2026-06-17"')
    assert "Paper 2026-06-18 1" in html and "Paper 2026-06-17 0" in html
    assert "keyword: sparse attention 0 · author: Ada Lovelace" in html
    assert "Never sent paper" not in html and "someone else" not in html
    assert "2 digests received." in html


@pytest.mark.django_db
def test_archive_queries_do_not_grow_with_digests_or_papers(client):
    reader = make_subscriber()
    _received(reader, DAY, 2)
    client = _signed_in(client, reader)
    few, _html = _queries(client, "/archive/")
    for n in range(1, 8):
        _received(reader, DAY - dt.timedelta(days=n), 5)
    many, html = _queries(client, "/archive/")
    # session, reader, count, digests, items with papers and topics
    assert many == few == 5
    assert html.count('class="archive-item"') == 2 + 7 * 5


@pytest.mark.django_db
def test_the_archive_pages_by_ten_days(client):
    reader = make_subscriber()
    for n in range(12):
        _received(reader, DAY - dt.timedelta(days=n), 1)
    client = _signed_in(client, reader)
    first = client.get("/archive/").content.decode()
    second = client.get("/archive/?page=2").content.decode()
    assert first.count('class="archive-day"') == 10 and 'id="older"' in first
    assert second.count('class="archive-day"') == 2 and 'id="day-2026-06-07"' in second
    assert client.get("/archive/?page=x").status_code == 400


@pytest.mark.django_db
def test_one_archived_day_shows_the_digest_in_full_and_only_ones_own(client):
    reader = make_subscriber()
    digest = _received(reader, DAY, 1)
    digest.items.update(paper=make_paper(title=HOSTILE))
    other = _received(make_subscriber(), DAY - dt.timedelta(days=1), 1)
    client = _signed_in(client, reader)

    html = client.get("/archive/2026-06-18/").content.decode()
    assert "&lt;script&gt;alert(&#x27;a&#x27;)&lt;/script&gt; Sparse attention" in html
    assert "<script>alert" not in html
    assert "/s/" in html  # the save links, as in the e-mail
    missing = client.get(f"/archive/{other.issue_date.isoformat()}/")
    assert missing.status_code == 404
    assert client.get("/archive/not-a-day%3Cb%3E/").status_code == 404


@pytest.mark.django_db
def test_the_view_in_browser_page_links_to_the_archive(client):
    digest = _received(make_subscriber(), DAY, 1)
    html = client.get(f"/d/{digest_token(digest_id=digest.pk)}/").content.decode()
    assert '<a href="/archive/" id="archive-link">' in html


@pytest.mark.django_db
def test_marked_papers_list_more_less_clicks_and_saves_once_each(client):
    # given a reader who marked four papers, one both saved and "more"
    reader = make_subscriber()
    more, less, click, saved = (make_paper(title=t) for t in ("More", "Less", "Click", HOSTILE))
    make_feedback(subscriber=reader, paper=more, signal=Feedback.Signal.MORE)
    make_feedback(subscriber=reader, paper=less, signal=Feedback.Signal.LESS)
    make_feedback(subscriber=reader, paper=click, signal=Feedback.Signal.CLICK)
    paper_save(subscriber=reader, paper=saved)  # records "more" too
    make_feedback(subscriber=make_subscriber(), paper=make_paper(title="Not theirs"))
    client = _signed_in(client, reader)

    # when they open the marked papers
    queries, html = _queries(client, "/archive/marked/")

    # then each paper is listed once with its marks, hostile text escaped
    assert "4 papers." in html and "Not theirs" not in html
    row = html[html.index(f'id="marked-{saved.arxiv_id}"') :]
    assert "more like this" in row[:400] and "saved" in row[:400]
    assert "less like this" in html and "clicked" in html
    assert "<script>alert" not in html
    # session, reader, feedback, saved, papers
    assert queries == 5
    for n in range(10):
        make_feedback(subscriber=reader, paper=make_paper(title=f"More {n}"))
    assert _queries(client, "/archive/marked/")[0] == queries
