"""The private Atom feed: the reader's digests at a secret address they can replace."""

from __future__ import annotations

import datetime as dt

import pytest
from defusedxml import ElementTree
from django.test import Client
from django.utils import timezone

from digests.models import Digest
from subscribers.models import Subscriber
from subscribers.tokens import signin_token
from tests.factories import (
    make_delivery,
    make_digest,
    make_digest_item,
    make_enrichment,
    make_paper,
    make_subscriber,
)

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _signed_in(client: Client, subscriber: Subscriber) -> Client:
    client.post(f"/signin/{signin_token(subscriber_id=subscriber.pk, email=subscriber.email)}/")
    return client


def _feed_path(client: Client, subscriber: Subscriber, action: str = "rotate") -> str:
    """Press a button of the feed section; return the feed's path ('' when it is off)."""
    response = client.post("/my-data/feed/", {"action": action})
    assert response.status_code == 302 and response["Location"] == "/my-data/"
    subscriber.refresh_from_db()
    return f"/feed/{subscriber.feed_key}.atom" if subscriber.feed_key else ""


def _entries(content: bytes) -> list:
    return ElementTree.fromstring(content).findall(f"{ATOM}entry")


@pytest.mark.django_db
def test_the_feed_lists_each_digest_as_an_entry_with_its_papers(client):
    # given a reader with two digests (one sent), and an empty one
    reader = make_subscriber(email="ada@example.org")
    older = make_digest(subscriber=reader, issue_date=dt.date(2026, 6, 17))
    make_digest_item(digest=older, paper=make_paper(title="Older paper"), relevance=70)
    newer = make_digest(subscriber=reader, issue_date=dt.date(2026, 6, 18), brief="Today: RL.")
    paper = make_paper(title="Trust-region distillation", arxiv_id="2606.18831")
    make_enrichment(paper=paper, language="en", title="Trust-region distillation", summary="S.")
    make_digest_item(digest=newer, paper=paper, relevance=85, reason="topic hit")
    make_delivery(digest=newer, status="sent", sent_at=timezone.now())
    make_digest(subscriber=reader, issue_date=dt.date(2026, 6, 19), status=Digest.Status.EMPTY)
    path = _feed_path(_signed_in(client, reader), reader)

    # when a feed reader (no session) fetches the feed
    response = Client().get(path)

    # then Atom with one entry per digest, newest first, titled like the e-mail's subject
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=900"
    entries = _entries(response.content)
    titles = [entry.findtext(f"{ATOM}title") for entry in entries]
    assert titles == [
        "arXiv digest 2026-06-18: 1 paper — Trust-region distillation",
        "arXiv digest 2026-06-17: 1 paper — Older paper",
    ]
    content = entries[0].findtext(f"{ATOM}content")
    assert "Trust-region distillation" in content
    assert "85%" in content
    assert "https://arxiv.org/abs/2606.18831v1" in content
    assert entries[0].findtext(f"{ATOM}summary") == "Today: RL."

    # and each entry links to the digest's "view in browser" page, which opens
    link = entries[0].find(f"{ATOM}link").get("href")
    assert Client().get(link.removeprefix("http://127.0.0.1:8000")).status_code == 200


@pytest.mark.django_db
def test_hostile_paper_and_model_text_reaches_the_feed_as_text(client):
    # given a paper and its reading full of markup
    reader = make_subscriber(email="ada@example.org", language="zh")
    paper = make_paper(title=HOSTILE)
    make_enrichment(paper=paper, title=f"译 {HOSTILE}", summary=HOSTILE, status="ok")
    make_digest_item(digest=make_digest(subscriber=reader, brief=HOSTILE), paper=paper)
    path = _feed_path(_signed_in(client, reader), reader)

    # when the feed is read
    [entry] = _entries(Client().get(path).content)

    # then the entry's HTML holds the markup escaped, never as tags
    content = entry.findtext(f"{ATOM}content")
    assert "<script>" not in content and "<img" not in content
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in content
    assert entry.findtext(f"{ATOM}summary") == HOSTILE  # plain text, escaped by XML


@pytest.mark.django_db
def test_replacing_the_address_makes_the_old_one_not_found(client):
    # given a reader's feed address
    reader = make_subscriber(email="ada@example.org")
    _signed_in(client, reader)
    old = _feed_path(client, reader)
    assert Client().get(old).status_code == 200

    # when they replace it
    new = _feed_path(client, reader)

    # then the old address is gone and the new one answers
    assert new != old
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200


@pytest.mark.django_db
def test_turning_the_feed_off_leaves_no_address(client):
    reader = make_subscriber(email="ada@example.org")
    _signed_in(client, reader)
    old = _feed_path(client, reader)

    assert _feed_path(client, reader, action="off") == ""

    assert Client().get(old).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["unsubscribed", "suppressed"])
def test_the_feed_of_a_reader_who_left_is_not_found(client, status):
    reader = make_subscriber(email="ada@example.org")
    path = _feed_path(_signed_in(client, reader), reader)

    Subscriber.objects.filter(pk=reader.pk).update(status=status)

    assert Client().get(path).status_code == 404


@pytest.mark.django_db
def test_a_guessed_key_is_not_found():
    make_subscriber(email="ada@example.org")  # no feed yet: its key is empty

    assert Client().get("/feed/None.atom").status_code == 404
    assert Client().get("/feed/.atom").status_code == 404


@pytest.mark.django_db
def test_only_a_signed_in_reader_can_create_or_replace_a_feed(client):
    response = client.post("/my-data/feed/", {"action": "rotate"})

    assert response.status_code == 302 and response["Location"] == "/signin/"
    assert Subscriber.objects.exclude(feed_key=None).count() == 0


@pytest.mark.django_db
def test_the_feed_address_is_random_and_long(client):
    first, second = make_subscriber(), make_subscriber()
    keys = set()
    for reader in (first, second):
        _feed_path(_signed_in(Client(), reader), reader)
        reader.refresh_from_db()
        keys.add(reader.feed_key)

    assert len(keys) == 2
    assert all(len(key) >= 43 for key in keys)


@pytest.mark.django_db
def test_the_feed_reads_a_fixed_number_of_queries_per_digest(client, django_assert_num_queries):
    # given a reader with three digests of three papers each
    reader = make_subscriber(email="ada@example.org")
    for day in (16, 17, 18):
        digest = make_digest(subscriber=reader, issue_date=dt.date(2026, 6, day))
        for _ in range(3):
            make_digest_item(digest=digest)
    path = _feed_path(_signed_in(client, reader), reader)

    # then: the subscriber, the digests, and two per digest (its items, their readings)
    with django_assert_num_queries(2 + 2 * 3):
        Client().get(path)
