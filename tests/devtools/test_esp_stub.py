"""The local Postmark stub, driven through Django's mail API and Anymail's real Postmark backend."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from anymail.exceptions import (
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
)
from django.core.mail import EmailMessage, EmailMultiAlternatives

from devtools.esp_stub import ESPStub, esp_stub_start

FROM = "Digest <digest@example.org>"
UNSUBSCRIBE = "<https://example.org/u/abc/>, <mailto:unsubscribe@example.org?subject=abc>"


def digest_message(to: str | list[str] = "ada@example.com") -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject="Your arXiv digest",
        body="Three new papers.",
        from_email=FROM,
        to=[to] if isinstance(to, str) else to,
        headers={
            "List-Unsubscribe": UNSUBSCRIBE,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative("<p>Three new papers.</p>", "text/html")
    message.tags = ["digest"]
    message.metadata = {"digest_id": "7"}
    return message


def test_a_digest_arrives_with_bodies_headers_tag_and_metadata(esp: ESPStub) -> None:
    # given a digest with an HTML alternative, unsubscribe headers, a tag and metadata
    message = digest_message()

    # when it is sent
    sent = message.send()

    # then the stub holds Postmark's payload and Anymail reports Postmark's MessageID as sent
    assert sent == 1
    [received] = esp.messages
    assert received["From"] == FROM
    assert received["To"] == "ada@example.com"
    assert received["Subject"] == "Your arXiv digest"
    assert received["TextBody"] == "Three new papers."
    assert received["HtmlBody"] == "<p>Three new papers.</p>"
    assert received["Headers"] == [
        {"Name": "List-Unsubscribe", "Value": UNSUBSCRIBE},
        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
    ]
    assert received["Tag"] == "digest"
    assert received["Metadata"] == {"digest_id": "7"}
    assert uuid.UUID(received["MessageID"]).version == 4
    status = message.anymail_status
    assert status.status == {"sent"}
    assert status.message_id == received["MessageID"]
    assert status.recipients["ada@example.com"].status == "sent"
    assert esp.requests == [{"path": "/email", "status": 200, "has_token": True}]


def test_the_raw_answer_is_postmarks_success_shape(esp: ESPStub) -> None:
    message = digest_message()

    message.send()

    answer = message.anymail_status.esp_response.json()
    assert set(answer) == {"To", "SubmittedAt", "MessageID", "ErrorCode", "Message"}
    assert (answer["To"], answer["ErrorCode"], answer["Message"]) == ("ada@example.com", 0, "OK")


def test_message_ids_repeat_from_one_stub_to_the_next(esp: ESPStub, settings) -> None:
    # given two sends to one stub
    digest_message().send()
    digest_message().send()
    other = esp_stub_start()
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_API_URL": other.api_url}
    try:
        # when a fresh stub takes a send
        digest_message().send()
        # then the ids differ within a stub and repeat across stubs
        first, second = (m["MessageID"] for m in esp.messages)
        assert first != second
        assert other.messages[0]["MessageID"] == first
    finally:
        other.stop()


def test_a_planned_500_raises_a_requests_api_error(esp: ESPStub) -> None:
    esp.plan("status", status=500)
    message = digest_message()

    with pytest.raises(AnymailRequestsAPIError) as raised:
        message.send()

    assert raised.value.status_code == 500
    assert esp.messages == []
    # the plan is used up: the next send goes through
    assert digest_message().send() == 1
    assert [r["status"] for r in esp.requests] == [500, 200]


def test_a_planned_429_raises_with_its_retry_after_header(esp: ESPStub) -> None:
    esp.plan("status", status=429, retry_after=1, times=2)

    for _ in range(2):
        with pytest.raises(AnymailRequestsAPIError) as raised:
            digest_message().send()
        assert raised.value.status_code == 429
        assert raised.value.response.headers["Retry-After"] == "1"

    assert digest_message().send() == 1


def test_a_refused_recipient_raises_recipients_refused_by_default(esp: ESPStub) -> None:
    esp.plan("refuse")
    message = digest_message("Ada <Ada@Example.com>")

    with pytest.raises(AnymailRecipientsRefused) as raised:
        message.send()

    # Anymail sets the status before raising: the recipient is "rejected", no message id
    assert message.anymail_status.status == {"rejected"}
    assert message.anymail_status.message_id is None
    # it is not an API error: no status_code, but the 422 response is attached
    assert not isinstance(raised.value, AnymailRequestsAPIError)
    assert raised.value.status_code is None
    assert raised.value.response.status_code == 422
    assert raised.value.response.json() == {
        "ErrorCode": 406,
        "Message": "You tried to send to recipient(s) that have been marked as inactive. "
        "Found inactive addresses: ada@example.com. Inactive recipients are ones that have "
        "generated a hard bounce, a spam complaint, or a manual suppression.",
    }
    assert esp.messages == []
    assert esp.requests == [{"path": "/email", "status": 422, "has_token": True}]


def test_a_refused_recipient_is_rejected_when_recipient_status_is_ignored(
    esp: ESPStub, settings
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "IGNORE_RECIPIENT_STATUS": True}
    esp.refuse_addresses = {"ada@example.com"}
    message = digest_message()

    sent = message.send()

    assert sent == 1  # Django counts it as sent; only anymail_status says otherwise
    assert message.anymail_status.status == {"rejected"}
    assert message.anymail_status.recipients["ada@example.com"].status == "rejected"


def test_one_refused_recipient_of_two_is_rejected_and_the_other_sent(esp: ESPStub) -> None:
    esp.refuse_addresses = {"bob@example.com"}
    message = digest_message(["ada@example.com", "bob@example.com"])

    message.send()

    assert message.anymail_status.status == {"sent", "rejected"}
    recipients = message.anymail_status.recipients
    assert recipients["ada@example.com"].status == "sent"
    assert recipients["bob@example.com"].status == "rejected"
    assert len(esp.messages) == 1


def test_a_batch_send_answers_each_recipient(esp: ESPStub) -> None:
    # given per-recipient metadata, which makes Anymail use email/batch
    esp.refuse_addresses = {"bob@example.com"}
    message = digest_message(["ada@example.com", "bob@example.com"])
    message.merge_metadata = {"ada@example.com": {"n": "1"}, "bob@example.com": {"n": "2"}}

    message.send()

    assert esp.requests[0]["path"] == "/email/batch"
    [received] = esp.messages
    assert received["Metadata"] == {"digest_id": "7", "n": "1"}
    recipients = message.anymail_status.recipients
    assert recipients["ada@example.com"].message_id == received["MessageID"]
    assert recipients["bob@example.com"].status == "rejected"


def test_a_malformed_address_fails_in_anymail_before_any_request(esp: ESPStub) -> None:
    message = EmailMessage("Hi", "Body", FROM, ["not-an-address"])

    with pytest.raises(AnymailInvalidAddress):
        message.send()

    assert esp.requests == []


def test_an_address_postmark_cannot_parse_is_refused_as_invalid(esp: ESPStub) -> None:
    message = EmailMessage("Hi", "Body", FROM, ["ada@localhost"])

    with pytest.raises(AnymailRecipientsRefused):
        message.send()

    assert message.anymail_status.status == {"invalid"}
    assert message.anymail_status.esp_response.json() == {
        "ErrorCode": 300,
        "Message": "Error parsing 'To': Illegal email domain 'localhost' "
        "in address 'ada@localhost'.",
    }


def test_a_delayed_acceptance_is_queued(esp: ESPStub) -> None:
    esp.plan("delayed")
    message = digest_message()

    message.send()

    assert message.anymail_status.status == {"queued"}
    assert message.anymail_status.message_id == esp.messages[0]["MessageID"]


def test_a_wrong_token_is_answered_401(esp: ESPStub, settings) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "wrong"}

    with pytest.raises(AnymailRequestsAPIError) as raised:
        digest_message().send()

    assert raised.value.status_code == 401
    assert raised.value.response.json()["ErrorCode"] == 10
    assert esp.requests == [{"path": "/email", "status": 401, "has_token": True}]
    assert "wrong" not in json.dumps(esp.requests)
    assert esp.messages == []


def test_a_hang_past_the_timeout_raises_but_the_message_is_still_accepted(
    esp: ESPStub, settings
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": 0.1}
    esp.plan("hang", seconds=0.3)

    with pytest.raises(AnymailRequestsAPIError) as raised:
        digest_message().send()

    # the error is also a requests Timeout, and has no HTTP status
    assert isinstance(raised.value, requests.Timeout)
    assert raised.value.status_code is None
    deadline = time.monotonic() + 2
    while not esp.messages and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(esp.messages) == 1  # the ESP sent what the client gave up on


def test_plans_refuse_what_they_cannot_do(esp: ESPStub) -> None:
    with pytest.raises(ValueError, match="unknown plan"):
        esp.plan("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="HTTP error"):
        esp.plan("status", status=200)
    with pytest.raises(ValueError, match="at least 1"):
        esp.plan("refuse", times=0)


def test_latency_slows_every_send_but_accepts_it(esp: ESPStub) -> None:
    # given a stub that takes 0.2 s per message, as a real ESP over the internet might
    esp.latency = 0.2

    # when two messages are sent one after the other
    started = time.monotonic()
    digest_message().send()
    digest_message().send()

    # then both were accepted, and each waited
    assert len(esp.messages) == 2
    assert time.monotonic() - started >= 0.4
