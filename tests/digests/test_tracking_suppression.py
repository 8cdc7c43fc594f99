"""Suppression by meaning, through Anymail's real webhook views and the ESPs' payload shapes:
hard bounces and complaints suppress, soft ones count toward a limit, the ESP's unsubscribe
unsubscribes, and every decision is recorded with its event."""

from __future__ import annotations

import base64
import datetime as dt
import json

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from digests.models import Delivery, Digest, TrackingDecision
from newsletter.config import Config
from subscribers.models import Subscriber
from tests.factories import make_subscriber

SECRET = "hook:s3cret-long-random"
AUTH = "Basic " + base64.b64encode(SECRET.encode()).decode()
ADDRESS = "reader@example.org"


@pytest.fixture
def esp(settings, client):
    """Send through the named ESP; return a poster for its tracking webhook."""

    def configure(name: str):
        settings.EMAIL_BACKEND = f"anymail.backends.{name}.EmailBackend"
        settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}

        def post(payload: object) -> int:
            return client.post(
                f"/anymail/{name}/tracking/", data=json.dumps(payload),
                content_type="application/json", HTTP_AUTHORIZATION=AUTH,
            ).status_code  # fmt: skip

        return post

    return configure


@pytest.fixture
def reader():
    return make_subscriber(email=ADDRESS)


def _sent(reader: Subscriber, message_id: str, day: int = 18) -> Delivery:
    digest = Digest.objects.create(subscriber=reader, issue_date=dt.date(2026, 6, day))
    return Delivery.objects.create(digest=digest, status="sent", esp_message_id=message_id)


def _status(reader: Subscriber) -> str:
    return Subscriber.objects.get(pk=reader.pk).status


def _postmark(record: str, message_id: str, **fields: object) -> dict:
    return {"RecordType": record, "MessageID": message_id, "Email": ADDRESS, "Tag": "digest",
            "ServerID": 23, "MessageStream": "outbound", "BouncedAt": "2026-06-19T08:00:00Z",
            "Metadata": {}, **fields}  # fmt: skip


def _postmark_soft(event_id: int, message_id: str) -> dict:
    return _postmark("Bounce", message_id, ID=event_id, Type="SoftBounce", TypeCode=4096,
                     Description="Unable to deliver: mailbox full",
                     Details="smtp;552 5.2.2 mailbox full")  # fmt: skip


@pytest.mark.django_db
def test_postmark_soft_bounces_suppress_at_the_limit_within_the_window(esp, reader):
    post = esp("postmark")
    for day in (16, 17, 18):
        _sent(reader, f"pm-{day}", day=day)

    # when two digests bounce softly (one of them twice), the reader is still served
    assert post(_postmark_soft(1, "pm-16")) == 200
    assert post(_postmark_soft(2, "pm-16")) == 200
    assert post(_postmark_soft(3, "pm-17")) == 200
    assert _status(reader) == "active"
    # when a third digest bounces softly, the limit (3 in 14 days) is reached
    assert post(_postmark_soft(4, "pm-18")) == 200

    assert _status(reader) == "suppressed"
    decisions = list(TrackingDecision.objects.order_by("pk").values_list("decision", flat=True))
    assert decisions == ["counted", "counted", "counted", "suppressed"]
    last = TrackingDecision.objects.order_by("pk").last()
    assert "3 of 3 digests within 14 days" in last.reason
    assert last.esp_reason == "Unable to deliver: mailbox full"
    assert Delivery.objects.get(esp_message_id="pm-18").status == "sent"  # not a hard bounce


@pytest.mark.django_db
def test_soft_bounces_older_than_the_window_or_delivered_after_all_do_not_count(
    esp, reader, settings
):
    settings.SOFT_BOUNCE_LIMIT = 2
    post = esp("postmark")
    old, retried, today = _sent(reader, "pm-1", 1), _sent(reader, "pm-2", 2), _sent(reader, "pm-3")
    post(_postmark_soft(1, "pm-1"))
    TrackingDecision.objects.filter(delivery=old).update(
        received_at=timezone.now() - dt.timedelta(days=15)
    )
    post(_postmark_soft(2, "pm-2"))
    post(_postmark("Delivery", "pm-2", Recipient=ADDRESS, DeliveredAt="2026-06-19T09:00:00Z"))

    post(_postmark_soft(3, "pm-3"))

    assert _status(reader) == "active"
    assert Delivery.objects.get(pk=retried.pk).status == "delivered"
    assert TrackingDecision.objects.get(delivery=today).decision == "counted"


@pytest.mark.django_db
def test_postmark_hard_bounce_and_complaint_suppress_at_once(esp, reader):
    post = esp("postmark")
    _sent(reader, "pm-h", 17)
    other = make_subscriber(email="other@example.org")
    _sent(other, "pm-c")
    complaint = {
        **_postmark(
            "SpamComplaint",
            "pm-c",
            ID=9,
            Type="SpamComplaint",
            TypeCode=512,
            Details="Test spam complaint details",
        ),
        "Email": "other@example.org",
    }

    post(_postmark("Bounce", "pm-h", ID=8, Type="HardBounce", TypeCode=1,
                   Details="smtp;550 5.1.1 The email account does not exist."))  # fmt: skip
    post(complaint)

    assert (_status(reader), _status(other)) == ("suppressed", "suppressed")
    assert Delivery.objects.get(esp_message_id="pm-h").status == "bounced"
    assert Delivery.objects.get(esp_message_id="pm-c").status == "complained"
    rows = TrackingDecision.objects.order_by("pk")
    assert [(r.esp, r.event_type, r.esp_event_type, r.meaning, r.decision) for r in rows] == [
        ("Postmark", "bounced", "HardBounce", "hard_bounce", "suppressed"),
        ("Postmark", "complained", "SpamComplaint", "complaint", "suppressed"),
    ]


@pytest.mark.django_db
def test_postmark_manual_suppression_unsubscribes_the_reader(esp, reader):
    post = esp("postmark")
    _sent(reader, "pm-u")
    change = {"RecordType": "SubscriptionChange", "MessageID": "pm-u", "ServerID": 23,
              "MessageStream": "outbound", "ChangedAt": "2026-06-19T10:53:34.416071Z",
              "Recipient": ADDRESS, "Origin": "Recipient", "SuppressSending": True,
              "SuppressionReason": "ManualSuppression", "Tag": "digest",
              "Metadata": {}}  # fmt: skip

    assert post(change) == 200

    assert _status(reader) == "unsubscribed"
    decision = TrackingDecision.objects.get()
    assert (decision.meaning, decision.decision) == ("unsubscribe", "unsubscribed")


def _sendgrid(event: str, message_id: str, **fields: object) -> dict:
    return {"email": ADDRESS, "timestamp": 1781856000, "event": event, "anymail_id": message_id,
            "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>", "category": ["digest"],
            "sg_event_id": f"sg-{event}-{message_id}",
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            **fields}  # fmt: skip


@pytest.mark.django_db
def test_sendgrid_events_by_meaning(esp, settings):
    settings.SOFT_BOUNCE_LIMIT = 10
    post = esp("sendgrid")
    readers = {name: make_subscriber(email=f"{name}@example.org") for name in
               ("blocked", "deferred", "bounce", "spam", "unsub")}  # fmt: skip
    for name, reader in readers.items():
        _sent(reader, f"sg-{name}")
    batch = [
        _sendgrid("bounce", "sg-blocked", type="blocked", status="4.0.0",
                  reason="421 4.7.0 temporarily rate limited"),
        _sendgrid("deferred", "sg-deferred", attempt="1", response="450 mailbox busy"),
        _sendgrid("bounce", "sg-bounce", type="bounce", status="5.1.1", reason="550 5.1.1 unknown"),
        _sendgrid("spamreport", "sg-spam"),
        _sendgrid("unsubscribe", "sg-unsub"),
    ]  # fmt: skip
    for event, name in zip(batch, readers, strict=True):
        event["email"] = f"{name}@example.org"

    assert post(batch) == 200

    assert {name: _status(reader) for name, reader in readers.items()} == {
        "blocked": "active", "deferred": "active", "bounce": "suppressed",
        "spam": "suppressed", "unsub": "unsubscribed",
    }  # fmt: skip


def _mailjet(event: str, message_id: int, **fields: object) -> dict:
    return {"event": event, "time": 1781856000, "MessageID": message_id, "Message_GUID": "1ab",
            "email": ADDRESS, "mj_campaign_id": 0, "mj_contact_id": 0, "customcampaign": "",
            "CustomID": "", "Payload": "", **fields}  # fmt: skip


@pytest.mark.django_db
def test_mailjet_soft_bounce_counts_and_hard_bounce_suppresses(esp, reader):
    post = esp("mailjet")
    _sent(reader, "19421777835146490", 17)
    _sent(reader, "19421777835146491")
    soft = _mailjet("bounce", 19421777835146490, blocked=False, hard_bounce=False,
                    error_related_to="recipient", error="quota exceeded")  # fmt: skip
    hard = _mailjet("bounce", 19421777835146491, blocked=False, hard_bounce=True,
                    error_related_to="recipient", error="user unknown")  # fmt: skip

    post(soft)
    assert _status(reader) == "active"
    post(hard)

    assert _status(reader) == "suppressed"
    assert list(TrackingDecision.objects.order_by("pk").values_list("meaning", flat=True)) == [
        "soft_bounce", "hard_bounce"
    ]  # fmt: skip


@pytest.mark.django_db
def test_mailjet_unsub_unsubscribes(esp, reader):
    post = esp("mailjet")
    _sent(reader, "19421777835146492")

    post([_mailjet("unsub", 19421777835146492, mj_list_id=0, ip="127.0.0.1", agent="Mozilla")])

    assert _status(reader) == "unsubscribed"


def _brevo(event: str, message_id: str, **fields: object) -> dict:
    return {"event": event, "email": ADDRESS, "id": 1, "date": "2026-06-19 08:00:00",
            "ts": 1781856000, "message-id": message_id, "ts_event": 1781856000,
            "subject": "Your digest", "tags": ["digest"], "ts_epoch": 1781856000000,
            **fields}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event", "status", "meaning"),
    [
        ("soft_bounce", "active", "soft_bounce"),
        ("hard_bounce", "suppressed", "hard_bounce"),
        ("spam", "suppressed", "complaint"),
        ("unsubscribe", "unsubscribed", "unsubscribe"),
    ],
)
def test_brevo_events_by_meaning(event, status, meaning, esp, reader):
    post = esp("brevo")
    _sent(reader, "<202606190800.1@smtp-relay.mailin.fr>")

    post(_brevo(event, "<202606190800.1@smtp-relay.mailin.fr>", reason="mailbox full"))

    assert _status(reader) == status
    assert TrackingDecision.objects.get().meaning == meaning


@pytest.mark.django_db
def test_opens_and_clicks_record_no_decision(esp, reader):
    post = esp("postmark")
    _sent(reader, "pm-o")

    post(_postmark("Open", "pm-o", Recipient=ADDRESS, ReceivedAt="2026-06-19T09:00:00Z"))

    assert Delivery.objects.get(esp_message_id="pm-o").opened_at is not None
    assert TrackingDecision.objects.count() == 0
    assert _status(reader) == "active"


def test_the_soft_bounce_settings_default_to_3_in_14_days_and_refuse_nonsense(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SOFT_BOUNCE_LIMIT", raising=False)
    monkeypatch.delenv("SOFT_BOUNCE_WINDOW_DAYS", raising=False)
    config = Config(environ.Env(), tmp_path)
    assert (config.soft_bounce_limit, config.soft_bounce_window_days) == (3, 14)

    for name, value in [("SOFT_BOUNCE_LIMIT", "0"), ("SOFT_BOUNCE_WINDOW_DAYS", "two weeks")]:
        monkeypatch.setenv(name, value)
        with pytest.raises(ImproperlyConfigured, match=name):
            Config(environ.Env(), tmp_path)
        monkeypatch.delenv(name)
