"""ESP webhooks closed by default: each attack of issue 17 tried through Anymail's real views
over Django's test client, with the ESPs' own payload shapes, and shown to fail."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from digests.models import Delivery, Digest, TrackingDecision
from newsletter.checks import esp_webhook_secret_check
from subscribers.models import Subscriber, TrackingEvent
from tests.factories import make_subscriber

DAY = dt.date(2026, 6, 18)
SECRET = "hook:s3cret-long-random"
AUTH = "Basic " + base64.b64encode(SECRET.encode()).decode()
BACKENDS = {
    "postmark": "anymail.backends.postmark.EmailBackend",
    "sendgrid": "anymail.backends.sendgrid.EmailBackend",
    "mailjet": "anymail.backends.mailjet.EmailBackend",
    "brevo": "anymail.backends.brevo.EmailBackend",
}


def postmark_hard_bounce(message_id: str, address: str) -> dict:
    return {
        "RecordType": "Bounce", "ID": 4323372036, "Type": "HardBounce", "TypeCode": 1,
        "Name": "Hard bounce", "Tag": "digest", "MessageID": message_id, "ServerID": 23,
        "MessageStream": "outbound", "Description": "The server was unable to deliver your "
        "message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": address, "From": "digest@example.org", "BouncedAt": "2026-06-19T08:00:00Z",
        "DumpAvailable": True, "Inactive": True, "CanActivate": True, "Subject": "Your digest",
        "Metadata": {"digest_id": "1"},
    }  # fmt: skip


FORGED = {
    "postmark": lambda mid, to: json.dumps(postmark_hard_bounce(mid, to)),
    "sendgrid": lambda mid, to: json.dumps([{
        "email": to, "timestamp": 1781856000, "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "event": "bounce", "category": ["digest"], "sg_event_id": "6g4ZI7SA-xmRDv57GoPIPw==",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "reason": "550 5.1.1 unknown recipient", "status": "5.1.1", "type": "bounce",
        "anymail_id": mid,
    }]),
    "mailjet": lambda mid, to: json.dumps({
        "event": "bounce", "time": 1781856000, "MessageID": int(mid), "Message_GUID": "1ab23",
        "email": to, "mj_campaign_id": 0, "mj_contact_id": 0, "customcampaign": "",
        "CustomID": "", "Payload": "", "blocked": False, "hard_bounce": True,
        "error_related_to": "recipient", "error": "user unknown",
    }),
    "brevo": lambda mid, to: json.dumps({
        "event": "hard_bounce", "email": to, "id": 1, "date": "2026-06-19 08:00:00",
        "ts": 1781856000, "message-id": mid, "ts_event": 1781856000, "subject": "Your digest",
        "tags": ["digest"], "sending_ip": "185.41.28.109", "ts_epoch": 1781856000000,
        "reason": "550 5.1.1 unknown user",
    }),
}  # fmt: skip
MESSAGE_IDS = {
    "postmark": "883953f4-6105-42a2-a16a-77a8eac79483",
    "sendgrid": "b9d7b6a5-8a32-4b6f-9a1d-6b2a4bd0f6d1",
    "mailjet": "13792286917004336",
    "brevo": "<202606190800.1234567@smtp-relay.mailin.fr>",
}


@pytest.fixture
def sent():
    """A reader and a digest we sent them, with the ESP's message id."""

    def make(message_id: str, email: str = "reader@example.org") -> Subscriber:
        reader = make_subscriber(email=email)
        digest = Digest.objects.create(subscriber=reader, issue_date=DAY)
        Delivery.objects.create(digest=digest, status="sent", esp_message_id=message_id)
        return reader

    return make


def _post(client, esp: str, body: str | bytes, *, auth: str | None = AUTH):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return client.post(
        f"/anymail/{esp}/tracking/", data=body, content_type="application/json", **headers
    )


def _nothing_happened(reader: Subscriber) -> None:
    assert Subscriber.objects.get(pk=reader.pk).status == "active"
    assert Delivery.objects.get(digest__subscriber=reader).status == "sent"
    assert TrackingEvent.objects.count() == 0


# --- check --deploy -------------------------------------------------------------------------


def test_check_deploy_fails_naming_the_secret_when_an_esp_has_none(settings):
    settings.EMAIL_BACKEND = BACKENDS["postmark"]
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "token"}

    with pytest.raises(SystemCheckError, match="ANYMAIL_WEBHOOK_SECRET") as failure:
        call_command("check", "--deploy")

    assert "newsletter.E001" in str(failure.value)
    assert "/anymail/postmark/tracking/" in str(failure.value)


def test_the_secret_check_passes_with_a_secret_or_without_an_esp(settings):
    settings.EMAIL_BACKEND = BACKENDS["sendgrid"]
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    assert esp_webhook_secret_check() == []

    settings.EMAIL_BACKEND = "newsletter.mail.EmlFileBackend"
    settings.ANYMAIL = {}
    assert esp_webhook_secret_check() == []


def test_a_secret_without_user_and_password_is_refused(settings):
    settings.EMAIL_BACKEND = BACKENDS["mailjet"]
    settings.ANYMAIL = {"WEBHOOK_SECRET": "justapassword"}

    assert [error.id for error in esp_webhook_secret_check()] == ["newsletter.E002"]


def test_the_check_runs_only_with_deploy(settings):
    settings.EMAIL_BACKEND = BACKENDS["postmark"]
    settings.ANYMAIL = {}

    call_command("check")  # the demo and the test settings still start


# --- forged events ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("esp", sorted(FORGED))
def test_without_a_secret_a_forged_bounce_finds_no_route(esp, settings, client, sent):
    settings.EMAIL_BACKEND = BACKENDS[esp]
    settings.ANYMAIL = {}
    reader = sent(MESSAGE_IDS[esp])

    response = _post(client, esp, FORGED[esp](MESSAGE_IDS[esp], "reader@example.org"), auth=None)

    assert response.status_code == 404
    _nothing_happened(reader)
    assert TrackingDecision.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("esp", sorted(FORGED))
@pytest.mark.parametrize("auth", [None, "Basic " + base64.b64encode(b"hook:guess").decode()])
def test_with_a_secret_a_bounce_without_it_is_refused(esp, auth, settings, client, sent):
    settings.EMAIL_BACKEND = BACKENDS[esp]
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    reader = sent(MESSAGE_IDS[esp])

    response = _post(client, esp, FORGED[esp](MESSAGE_IDS[esp], "reader@example.org"), auth=auth)

    assert response.status_code == 400
    _nothing_happened(reader)


@pytest.mark.django_db
@pytest.mark.parametrize("esp", sorted(FORGED))
def test_the_same_bounce_with_the_secret_suppresses(esp, settings, client, sent):
    # the control for the two tests above: the payloads are ones that do act
    settings.EMAIL_BACKEND = BACKENDS[esp]
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    reader = sent(MESSAGE_IDS[esp])

    response = _post(client, esp, FORGED[esp](MESSAGE_IDS[esp], "reader@example.org"))

    assert response.status_code == 200
    assert Subscriber.objects.get(pk=reader.pk).status == "suppressed"
    decision = TrackingDecision.objects.get()
    assert (decision.meaning, decision.decision) == ("hard_bounce", "suppressed")
    assert decision.message_id == MESSAGE_IDS[esp]


@pytest.mark.django_db
def test_only_the_configured_esps_tracking_route_answers(settings, client, sent):
    settings.EMAIL_BACKEND = BACKENDS["postmark"]
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    reader = sent(MESSAGE_IDS["sendgrid"])

    other_esp = _post(client, "sendgrid", FORGED["sendgrid"](MESSAGE_IDS["sendgrid"], "x@y.org"))
    inbound = client.post("/anymail/postmark/inbound/", data="{}", content_type="application/json",
                          HTTP_AUTHORIZATION=AUTH)  # fmt: skip
    unknown = _post(client, "nosuchesp", "{}")

    assert (other_esp.status_code, inbound.status_code, unknown.status_code) == (404, 404, 404)
    _nothing_happened(reader)


@pytest.mark.django_db
def test_a_bounce_for_a_message_we_did_not_send_changes_nothing(settings, client, sent):
    settings.EMAIL_BACKEND = BACKENDS["postmark"]
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    reader = sent(MESSAGE_IDS["postmark"])

    response = _post(
        client, "postmark", FORGED["postmark"]("not-one-of-ours", "reader@example.org")
    )

    assert response.status_code == 200  # acknowledged, so the ESP does not retry it
    _nothing_happened(reader)
    decision = TrackingDecision.objects.get()
    assert (decision.decision, decision.subscriber) == ("ignored", None)
    assert "no digest we sent" in decision.reason


@pytest.mark.django_db
def test_a_bounce_naming_another_reader_for_our_message_changes_nothing(settings, client, sent):
    settings.EMAIL_BACKEND = BACKENDS["postmark"]
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    sender_of_id = sent(MESSAGE_IDS["postmark"])
    victim = make_subscriber(email="victim@example.org")

    _post(client, "postmark", FORGED["postmark"](MESSAGE_IDS["postmark"], "victim@example.org"))

    assert Subscriber.objects.get(pk=victim.pk).status == "active"
    _nothing_happened(sender_of_id)
    assert TrackingDecision.objects.get().decision == "ignored"


@pytest.mark.django_db
def test_a_postmark_soft_bounce_does_not_suppress(settings, client, sent):
    settings.EMAIL_BACKEND = BACKENDS["postmark"]
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    reader = sent(MESSAGE_IDS["postmark"])
    soft = {**postmark_hard_bounce(MESSAGE_IDS["postmark"], "reader@example.org"),
            "Type": "SoftBounce", "TypeCode": 4096, "Name": "Soft bounce",
            "Details": "smtp;552 5.2.2 mailbox full", "Inactive": False}  # fmt: skip

    response = _post(client, "postmark", json.dumps(soft))

    assert response.status_code == 200
    assert Subscriber.objects.get(pk=reader.pk).status == "active"
    assert Delivery.objects.get(digest__subscriber=reader).status == "sent"
    decision = TrackingDecision.objects.get()
    assert (decision.meaning, decision.decision, decision.esp_event_type) == (
        "soft_bounce", "counted", "SoftBounce"
    )  # fmt: skip


MALFORMED = {
    "postmark": [
        b'{"RecordType": "Bounce", "Type": "HardBounce", "MessageID": ',  # cut short
        b"\xff\xfe not utf-8",
        b"[1, 2, 3]",  # an array where Postmark posts one object
        b'"just a string"',
        b'{"RecordType": "Bounce", "Type": ["HardBounce"], "Email": "reader@example.org"}',
        b'{"RecordType": "Bounce", "Type": "HardBounce", "MessageID": {"$ne": ""}}',
        b'{"RecordType": "Bounce", "Type": "HardBounce", "MessageID": "883953f4-6105-42a2-'
        b'a16a-77a8eac79483", "Email": "reader@example.org", "BouncedAt": "2026-13-45T99:00Z"}',
    ],
    "sendgrid": [b'{"event": "bounce"}', b'[{"email": "reader@example.org"}]', b"[null]"],
    "mailjet": [b"", b'{"email": "reader@example.org"}'],
    "brevo": [b"[]", b'{"event": "hard_bounce", "email": {"a": 1}}'],
}
MALFORMED_CASES = [(esp, body) for esp, bodies in MALFORMED.items() for body in bodies]


@pytest.mark.django_db
@pytest.mark.parametrize(("esp", "body"), MALFORMED_CASES)
def test_a_malformed_body_answers_400_and_stores_nothing(esp, body, settings, client, sent):
    settings.EMAIL_BACKEND = BACKENDS[esp]
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    reader = sent(MESSAGE_IDS[esp])

    response = _post(client, esp, body)

    assert response.status_code == 400
    _nothing_happened(reader)
    assert TrackingDecision.objects.count() == 0


@pytest.mark.django_db
def test_a_batch_with_one_malformed_event_applies_none_of_it(settings, client, sent):
    settings.EMAIL_BACKEND = BACKENDS["sendgrid"]
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    reader = sent(MESSAGE_IDS["sendgrid"])
    good = json.loads(FORGED["sendgrid"](MESSAGE_IDS["sendgrid"], "reader@example.org"))[0]

    response = _post(client, "sendgrid", json.dumps([good, {"email": "reader@example.org"}]))

    assert response.status_code == 400
    _nothing_happened(reader)


def test_the_check_names_what_else_the_esps_webhook_needs(settings):
    # Mailgun signs its webhooks: without the signing key every event would answer 500
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}

    errors = esp_webhook_secret_check()

    assert [error.id for error in errors] == ["newsletter.E003"]
    assert "MAILGUN_WEBHOOK_SIGNING_KEY" in errors[0].msg
