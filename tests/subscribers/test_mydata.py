"""Leaving and coming back: resubscribe, download everything we hold, delete it all."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from digests.models import Delivery, Digest, DigestItem, Feedback, Paper
from subscribers.library.secret import secret_seal
from subscribers.models import (
    InterestProfile,
    LibraryEntry,
    Subscriber,
    TrackingEvent,
    ZoteroLink,
)
from subscribers.tokens import signin_token, unsubscribe_token
from tests.factories import (
    make_delivery,
    make_digest,
    make_digest_item,
    make_feedback,
    make_paper,
    make_subscriber,
    make_topic,
)


def _signed_in(client: Client, subscriber: Subscriber) -> Client:
    client.post(f"/signin/{signin_token(subscriber_id=subscriber.pk, email=subscriber.email)}/")
    return client


def _reader_with_history() -> Subscriber:
    """A reader with a profile, a sent digest of two papers, feedback and an ESP event."""
    reader = make_subscriber(
        email="ada@example.org",
        language="zh",
        keywords=["on-policy distillation"],
        authors=["Yongjin Yang"],
        topics=[make_topic(slug="post-training")],
    )
    digest = make_digest(subscriber=reader, issue_date=dt.date(2026, 6, 18), brief="Brief.")
    paper = make_paper(arxiv_id="2606.18831", title="Trust-region distillation")
    make_digest_item(digest=digest, paper=paper, relevance=85, reason="topic hit")
    make_digest_item(digest=digest, paper=make_paper(arxiv_id="2606.17199"), relevance=60)
    make_delivery(digest=digest, status="sent", esp_message_id="m-1", sent_at=timezone.now())
    make_feedback(subscriber=reader, paper=paper, signal="more")
    TrackingEvent.objects.create(key="e-1", event_type="opened", recipient="ADA@example.org")
    return reader


ZOTERO_KEY = "P9xZoteroKey0123456789ab"


def _give_a_library(reader: Subscriber) -> ZoteroLink:
    """An imported arXiv paper, a Zotero item kept as text, a dropped DOI, and the Zotero link."""
    LibraryEntry.objects.create(
        subscriber=reader, key="arxiv:2606.18831", state="arxiv", arxiv_id="2606.18831",
        title="Trust-region distillation", added_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    LibraryEntry.objects.create(
        subscriber=reader, key="title:a book chapter", source="zotero", state="text",
        title="A book chapter", abstract="About things.", zotero_key="ABCD2345",
        added_at=dt.datetime(2026, 6, 2, tzinfo=dt.UTC),
    )  # fmt: skip
    LibraryEntry.objects.create(
        subscriber=reader, key="doi:10.1000/x", state="lookup", doi="10.1000/x", dropped=True,
        added_at=dt.datetime(2026, 6, 3, tzinfo=dt.UTC),
    )  # fmt: skip
    return ZoteroLink.objects.create(
        subscriber=reader, user_id="4242", api_key_encrypted=secret_seal(ZOTERO_KEY),
        collections_include=["Reading group"], error="HTTP 503",
    )  # fmt: skip


# Download and delete.


@pytest.mark.django_db
def test_the_data_pages_need_a_signed_in_reader(client):
    assert client.get("/my-data/")["Location"] == "/signin/"
    assert client.get("/my-data/export.json")["Location"] == "/signin/"
    assert client.post("/my-data/delete/", {"confirm": "on"})["Location"] == "/signin/"


@pytest.mark.django_db
def test_the_data_page_offers_the_feed_the_download_and_the_deletion(client):
    reader = make_subscriber(email="ada@example.org")

    page = _signed_in(client, reader).get("/my-data/")

    assert page.status_code == 200
    for element in (b'id="feed-create"', b'id="export"', b'id="delete-everything"'):
        assert element in page.content


@pytest.mark.django_db
def test_the_download_holds_everything_we_keep_about_the_reader(client):
    # given a reader with a history, and another reader
    reader = _reader_with_history()
    make_digest_item(digest=make_digest(subscriber=make_subscriber(email="other@example.org")))

    # when they download their data
    response = _signed_in(client, reader).get("/my-data/export.json")

    # then a JSON attachment with their subscription, profile, digest, delivery and feedback
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="arxiv-digest-my-data.json"'
    data = json.loads(response.content)
    assert data["subscriber"]["email"] == "ada@example.org"
    assert data["subscriber"]["language"] == "zh"
    assert data["subscriber"]["last_signin_at"] is not None
    assert data["profile"]["keywords"] == ["on-policy distillation"]
    assert data["profile"]["topics"] == ["post-training"]
    [digest] = data["digests"]
    assert digest["issue_date"] == "2026-06-18"
    assert digest["brief"] == "Brief."
    assert [(i["rank"], i["arxiv_id"], i["relevance"]) for i in digest["items"]] == [
        (1, "2606.18831v1", 85),
        (2, "2606.17199v1", 60),
    ]
    assert digest["delivery"]["status"] == "sent"
    assert digest["delivery"]["esp_message_id"] == "m-1"
    assert data["feedback"] == [
        {
            "arxiv_id": "2606.18831v1",
            "title": "Trust-region distillation",
            "signal": "more",
            "created_at": data["feedback"][0]["created_at"],
        }
    ]
    assert [event["event"] for event in data["email_events"]] == ["opened"]
    assert data["held_sign_ups"] == []
    assert "other@example.org" not in response.content.decode()


@pytest.mark.django_db
def test_the_download_holds_the_library_and_the_zotero_link_never_its_key(client):
    # given a reader with a library (one entry dropped) and a Zotero link, and another reader's
    reader = _reader_with_history()
    link = _give_a_library(reader)
    other = make_subscriber(email="other@example.org")
    LibraryEntry.objects.create(subscriber=other, key="arxiv:2606.00001", state="arxiv")

    # when they download their data
    response = _signed_in(client, reader).get("/my-data/export.json")

    # then every entry of theirs is there, oldest first, dropped ones too
    data = json.loads(response.content)
    assert [(e["key"], e["source"], e["state"], e["dropped"]) for e in data["library"]] == [
        ("arxiv:2606.18831", "file", "arxiv", False),
        ("title:a book chapter", "zotero", "text", False),
        ("doi:10.1000/x", "file", "lookup", True),
    ]
    assert data["library"][1] == {
        "key": "title:a book chapter",
        "source": "zotero",
        "state": "text",
        "arxiv_id": "",
        "doi": "",
        "title": "A book chapter",
        "abstract": "About things.",
        "added_at": "2026-06-02T00:00:00+00:00",
        "dropped": False,
        "zotero_item_key": "ABCD2345",
    }
    # and the Zotero link is said, with its settings, but neither the key nor its sealed form
    assert data["zotero"] == {
        "connected": True,
        "user_id": "4242",
        "collections_include": ["Reading group"],
        "collections_ignore": [],
        "last_read_at": None,
        "last_error": "HTTP 503",
    }
    body = response.content.decode()
    assert ZOTERO_KEY not in body and link.api_key_encrypted not in body
    assert "api_key" not in body and "2606.00001" not in body


@pytest.mark.django_db
def test_the_download_of_a_reader_without_a_library_says_so(client):
    data = json.loads(_signed_in(client, make_subscriber()).get("/my-data/export.json").content)

    assert data["library"] == [] and data["zotero"] == {"connected": False}


@pytest.mark.django_db
def test_the_download_reads_a_fixed_number_of_queries(client, django_assert_num_queries):
    reader = _reader_with_history()
    for day in (15, 16, 17):
        make_digest_item(digest=make_digest(subscriber=reader, issue_date=dt.date(2026, 6, day)))
    _give_a_library(reader)
    _signed_in(client, reader)

    # session, subscriber, feedback, events, profile, its topics, digests with their deliveries,
    # items, their papers, their updated papers, saved papers, tracking decisions, held
    # sign-ups, library entries, the Zotero link: whatever the number of digests and entries
    with django_assert_num_queries(15):
        client.get("/my-data/export.json")


@pytest.mark.django_db
def test_deletion_needs_the_box_ticked(client):
    reader = _reader_with_history()

    response = _signed_in(client, reader).post("/my-data/delete/", {})

    assert response.status_code == 200
    assert b'<span class="error">' in response.content
    assert Subscriber.objects.filter(pk=reader.pk).exists()


@pytest.mark.django_db
def test_deletion_removes_every_record_of_the_reader_and_ends_the_session(client):
    # given a reader with a history, and another reader with theirs
    reader = _reader_with_history()
    _give_a_library(reader)
    other = make_subscriber(email="other@example.org")
    make_feedback(subscriber=other)
    make_delivery(digest=make_digest(subscriber=other))
    TrackingEvent.objects.create(key="e-2", event_type="opened", recipient="other@example.org")
    _give_a_library(other)
    _signed_in(client, reader)

    # when they tick the box and delete
    response = client.post("/my-data/delete/", {"confirm": "on"})

    # then a page says so, and nothing of theirs is left; the other reader keeps everything
    assert response.status_code == 200 and b'id="deleted"' in response.content
    assert not Subscriber.objects.filter(pk=reader.pk).exists()
    assert not InterestProfile.objects.filter(subscriber_id=reader.pk).exists()
    assert not Digest.objects.filter(subscriber_id=reader.pk).exists()
    assert DigestItem.objects.filter(digest__subscriber=other).count() == 0
    assert Delivery.objects.count() == 1
    assert list(Feedback.objects.values_list("subscriber_id", flat=True)) == [other.pk]
    assert list(TrackingEvent.objects.values_list("key", flat=True)) == ["e-2"]
    assert Subscriber.objects.filter(pk=other.pk).exists()
    # their library and Zotero link (its sealed key with it) are gone; the other's stay
    assert set(LibraryEntry.objects.values_list("subscriber_id", flat=True)) == {other.pk}
    assert LibraryEntry.objects.count() == 3
    assert list(ZoteroLink.objects.values_list("subscriber_id", flat=True)) == [other.pk]
    # the papers are arXiv's, not the reader's: they stay for everyone else
    assert Paper.objects.filter(arxiv_id="2606.18831").exists()
    # and the session is over
    assert client.get("/my-data/")["Location"] == "/signin/"


# Resubscribe.


@pytest.mark.django_db
def test_the_unsubscribed_page_offers_to_resubscribe_with_the_same_link(client):
    # given a reader who unsubscribed with the link from their e-mail
    reader = make_subscriber(email="ada@example.org")
    token = unsubscribe_token(subscriber_id=reader.pk, email=reader.email)
    page = client.post(f"/u/{token}/")
    assert f'action="/u/{token}/resubscribe/"'.encode() in page.content

    # when they press "resubscribe"
    response = client.post(f"/u/{token}/resubscribe/")

    # then they are back, welcomed
    assert response.status_code == 200 and b'id="resubscribed"' in response.content
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE
    assert reader.unsubscribed_at is None
    assert reader.confirmed_at is not None


@pytest.mark.django_db
def test_opening_the_resubscribe_address_changes_nothing(client):
    reader = make_subscriber(email="ada@example.org", status="unsubscribed")

    page = client.get(
        f"/u/{unsubscribe_token(subscriber_id=reader.pk, email=reader.email)}/resubscribe/"
    )

    assert page.status_code == 200 and b'id="resubscribe"' in page.content
    assert Subscriber.objects.get(pk=reader.pk).status == "unsubscribed"


@pytest.mark.django_db
def test_a_suppressed_address_stays_suppressed(client):
    reader = make_subscriber(email="bounced@example.org", status="suppressed")
    token = unsubscribe_token(subscriber_id=reader.pk, email=reader.email)

    assert b'id="resubscribe"' not in client.get(f"/u/{token}/").content
    response = client.post(f"/u/{token}/resubscribe/")

    assert response.status_code == 200 and b'id="resubscribed"' not in response.content
    assert Subscriber.objects.get(pk=reader.pk).status == "suppressed"


@pytest.mark.django_db
def test_resubscribing_keeps_the_first_confirmation_time(client):
    confirmed = timezone.now() - dt.timedelta(days=30)
    reader = make_subscriber(status="unsubscribed", confirmed_at=confirmed)

    client.post(f"/u/{unsubscribe_token(subscriber_id=reader.pk, email=reader.email)}/resubscribe/")

    assert Subscriber.objects.get(pk=reader.pk).confirmed_at == confirmed


@pytest.mark.django_db
def test_a_tampered_resubscribe_link_changes_nothing(client):
    reader = make_subscriber(status="unsubscribed")
    token = unsubscribe_token(subscriber_id=reader.pk, email=reader.email)

    response = client.post(f"/u/{token[:-2]}xx/resubscribe/")

    assert response.status_code == 400
    assert Subscriber.objects.get(pk=reader.pk).status == "unsubscribed"


@pytest.mark.django_db
def test_the_resubscribe_button_needs_its_csrf_token():
    reader = make_subscriber(status="unsubscribed")
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        f"/u/{unsubscribe_token(subscriber_id=reader.pk, email=reader.email)}/resubscribe/"
    )

    assert response.status_code == 403
    assert Subscriber.objects.get(pk=reader.pk).status == "unsubscribed"
