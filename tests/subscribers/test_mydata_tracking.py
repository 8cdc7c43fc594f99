"""The reader's download holds the tracking decisions about them, their digests' updated
papers, feedback of every signal (clicks too) and held sign-ups; deletion removes them all."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from digests.models import (
    Delivery,
    DigestUpdate,
    Feedback,
    PaperVersion,
    TrackingDecision,
)
from subscribers.models import HeldSignup, Subscriber
from subscribers.tokens import signin_token
from tests.factories import (
    make_delivery,
    make_digest,
    make_digest_update,
    make_feedback,
    make_paper,
    make_subscriber,
    make_topic,
)

DAY = dt.date(2026, 6, 18)


def _signed_in(client: Client, subscriber: Subscriber) -> Client:
    client.post(f"/signin/{signin_token(subscriber_id=subscriber.pk, email=subscriber.email)}/")
    return client


def _decision(delivery: Delivery, **fields: str) -> TrackingDecision:
    return TrackingDecision.objects.create(
        esp="Postmark",
        event_type="bounced",
        esp_event_type=fields.get("esp_event_type", "SoftBounce"),
        message_id=delivery.esp_message_id,
        subscriber=delivery.digest.subscriber,
        delivery=delivery,
        meaning=fields.get("meaning", "soft_bounce"),
        decision=fields.get("decision", "counted"),
        reason="Postmark SoftBounce: soft bounce",
        esp_reason="452 4.2.2 mailbox full",
    )


def _reader_with_everything() -> Subscriber:
    """A reader with a bounced digest carrying an updated paper, three kinds of feedback and a
    held sign-up naming a topic."""
    reader = make_subscriber(email="ada@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    digest = make_digest(subscriber=reader, issue_date=DAY)
    delivery = make_delivery(digest=digest, status="bounced", esp_message_id="pm-1")
    _decision(delivery)
    make_digest_update(
        digest=digest,
        paper=make_paper(arxiv_id="2606.17199", version=2, title="Trust-region distillation"),
        previous_date=dt.date(2026, 6, 17),
    )
    for signal, arxiv_id in (("more", "2606.10001"), ("less", "2606.10002"), ("click", "2606.1")):
        make_feedback(subscriber=reader, paper=make_paper(arxiv_id=arxiv_id), signal=signal)
    HeldSignup.objects.create(
        subscriber=reader,
        subscriber_fields={"language": "zh"},
        profile_fields={"keywords": ["distillation"]},
        topic_ids=[make_topic(slug="post-training").pk],
    )
    return reader


@pytest.mark.django_db
def test_the_download_holds_decisions_updates_every_feedback_and_held_sign_ups(client):
    # given a reader with everything, and another reader with a decision of their own
    reader = _reader_with_everything()
    other = make_delivery(
        digest=make_digest(subscriber=make_subscriber(email="bob@example.org")),
        esp_message_id="pm-other",
    )
    _decision(other, meaning="hard_bounce", decision="suppressed")

    # when they download their data
    data = json.loads(_signed_in(client, reader).get("/my-data/export.json").content)

    # then what the ESP's events did to them is there, with the digest each was about
    assert data["tracking_decisions"] == [
        {
            "received_at": data["tracking_decisions"][0]["received_at"],
            "occurred_at": None,
            "esp": "Postmark",
            "event_type": "bounced",
            "esp_event_type": "SoftBounce",
            "message_id": "pm-1",
            "digest_issue_date": "2026-06-18",
            "meaning": "soft_bounce",
            "decision": "counted",
            "reason": "Postmark SoftBounce: soft bounce",
            "esp_reason": "452 4.2.2 mailbox full",
        }
    ]
    # the digest's updated paper, as the digest told them
    [digest] = data["digests"]
    assert digest["updates"] == [
        {
            "arxiv_id": "2606.17199",
            "title": "Trust-region distillation",
            "version": 2,
            "previous_version": 1,
            "previous_date": "2026-06-17",
        }
    ]
    # feedback of every signal, the ESP's clicks included
    assert sorted((f["arxiv_id"], f["signal"]) for f in data["feedback"]) == [
        ("2606.10001v1", "more"),
        ("2606.10002v1", "less"),
        ("2606.1v1", "click"),
    ]
    # the held sign-up, its topics by slug
    [held] = data["held_sign_ups"]
    assert held["settings"] == {"language": "zh"}
    assert held["profile"] == {"keywords": ["distillation"]}
    assert held["topics"] == ["post-training"]
    assert "pm-other" not in json.dumps(data) and "bob@example.org" not in json.dumps(data)


@pytest.mark.django_db
def test_deletion_removes_decisions_updates_feedback_and_held_sign_ups(client):
    # given a reader with everything, and another reader with a decision and an update
    reader = _reader_with_everything()
    bob = make_subscriber(email="bob@example.org")
    bobs = make_digest(subscriber=bob)
    _decision(make_delivery(digest=bobs, esp_message_id="pm-bob"))
    make_digest_update(digest=bobs)
    make_feedback(subscriber=bob, signal="click")
    HeldSignup.objects.create(subscriber=bob)
    _signed_in(client, reader)

    # when the reader deletes everything
    response = client.post("/my-data/delete/", {"confirm": "on"})

    # then nothing of theirs is left, and the other reader keeps all of theirs
    assert response.status_code == 200
    assert list(TrackingDecision.objects.values_list("subscriber_id", flat=True)) == [bob.pk]
    assert list(DigestUpdate.objects.values_list("digest__subscriber_id", flat=True)) == [bob.pk]
    assert list(Feedback.objects.values_list("subscriber_id", flat=True)) == [bob.pk]
    assert list(HeldSignup.objects.values_list("subscriber_id", flat=True)) == [bob.pk]
    # the versions are arXiv's, not the reader's: they stay
    assert PaperVersion.objects.filter(paper__arxiv_id="2606.17199", version=1).exists()


@pytest.mark.django_db
def test_the_download_costs_the_same_whatever_the_number_of_rows(
    client, django_assert_max_num_queries
):
    # given a reader with one of everything
    reader = _reader_with_everything()
    _signed_in(client, reader)
    with django_assert_max_num_queries(20) as once:
        client.get("/my-data/export.json")

    # when they have many more digests with updates and decisions, and held sign-ups
    for day in range(1, 6):
        digest = make_digest(subscriber=reader, issue_date=dt.date(2026, 6, day))
        make_digest_update(digest=digest)
        make_digest_update(digest=digest)
        _decision(make_delivery(digest=digest, esp_message_id=f"pm-{day}0"))
        HeldSignup.objects.create(subscriber=reader, topic_ids=[make_topic().pk])

    # then the download reads as many queries as before
    with django_assert_max_num_queries(20) as many:
        data = json.loads(client.get("/my-data/export.json").content)
    assert len(many) == len(once)
    assert len(data["digests"]) == 6 and len(data["tracking_decisions"]) == 6
    assert sum(len(d["updates"]) for d in data["digests"]) == 11
    assert len(data["held_sign_ups"]) == 6
