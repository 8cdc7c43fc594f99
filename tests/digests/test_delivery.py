"""Sending: one message per digest with both parts and the unsubscribe headers, exactly once;
the one-click unsubscribe; tracking webhooks."""

from __future__ import annotations

import base64
import datetime as dt
import email
import io
import json
from concurrent.futures import ThreadPoolExecutor
from email import policy

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from digests.assemble import digest_assemble
from digests.daily import digests_send
from digests.delivery import SendOutcome, deliveries_stuck, delivery_send, retry_delay
from digests.ingest import day_ingest
from digests.models import Delivery, Digest, Feedback, Topic
from digests.render import GMAIL_CLIP_BYTES
from subscribers.models import Subscriber, TrackingEvent
from subscribers.tokens import feedback_token, unsubscribe_token
from tests.factories import make_paper, make_subscriber

DAY = dt.date(2026, 6, 18)


def _messages(outbox):
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(outbox.glob("*.eml"))
    ]


@pytest.fixture
def three_readers(catalogue):
    post_training = Topic.objects.get(slug="post-training")
    return [
        make_subscriber(email=f"{name}@example.org", timezone=zone, topics=[post_training])
        for name, zone in (
            ("shanghai", "Asia/Shanghai"),
            ("paris", "Europe/Paris"),
            ("boston", "America/New_York"),
        )
    ]


@pytest.mark.django_db
def test_run_daily_writes_three_complete_messages_once(
    recorded_arxiv, outbox_dir, three_readers, settings
):
    settings.SITE_URL = "https://digest.example.org"
    call_command("run_daily", "--date", "2026-06-18", stdout=io.StringIO())
    call_command("run_daily", "--date", "2026-06-18", stdout=io.StringIO())

    messages = _messages(outbox_dir)
    assert sorted(m["To"] for m in messages) == sorted(s.email for s in three_readers)
    for message in messages:
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert len(html.encode()) < GMAIL_CLIP_BYTES
        assert "arxiv.org/abs/" in html and "arxiv.org/abs/" in text
        # one https URL, no mailto: nothing reads mail sent to the sender address
        unsubscribe = message["List-Unsubscribe"].strip()  # folded: a long URL
        assert unsubscribe.startswith("<https://digest.example.org/u/")
        assert unsubscribe.endswith(">") and unsubscribe.count("<") == 1
        assert "mailto:" not in unsubscribe
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert Delivery.objects.filter(status="sent").count() == 3


@pytest.mark.django_db
def test_a_delivery_is_claimed_once(recorded_arxiv, outbox_dir):
    day_ingest(categories=["cs.CL", "cs.AI", "cs.LG"], date=DAY)
    reader = make_subscriber(keywords=["reinforcement learning"])
    digest = digest_assemble(subscriber=reader, issue_date=DAY)
    assert digest.status == "assembled"

    outcomes = [delivery_send(digest=Digest.objects.get(pk=digest.pk)) for _ in range(3)]

    assert outcomes == [SendOutcome.SENT, SendOutcome.SKIPPED, SendOutcome.SKIPPED]
    assert len(_messages(outbox_dir)) == 1


@pytest.mark.django_db
def test_the_unsubscribe_link_shows_a_button_and_only_the_post_acts(client):
    reader = make_subscriber(email="leaving@example.org")
    url = f"/u/{unsubscribe_token(subscriber_id=reader.pk, email=reader.email)}/"

    page = client.get(url)
    assert page.status_code == 200 and b'id="unsubscribe"' in page.content
    assert Subscriber.objects.get(pk=reader.pk).status == "active"

    done = client.post(url)
    assert done.status_code == 200
    assert Subscriber.objects.get(pk=reader.pk).status == "unsubscribed"


@pytest.mark.django_db
def test_rfc8058_one_click_post_unsubscribes_with_no_page_or_redirect(client):
    reader = make_subscriber(email="oneclick@example.org")
    url = f"/u/{unsubscribe_token(subscriber_id=reader.pk, email=reader.email)}/"

    response = client.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert Subscriber.objects.get(pk=reader.pk).status == "unsubscribed"


@pytest.mark.django_db
def test_a_tampered_unsubscribe_link_changes_nothing(client):
    reader = make_subscriber(email="kept@example.org")
    token = unsubscribe_token(subscriber_id=reader.pk, email=reader.email)

    response = client.post(f"/u/{token[:-2]}xx/")

    assert response.status_code == 400
    assert b"This link is not valid" in response.content
    assert Subscriber.objects.get(pk=reader.pk).status == "active"


def _postmark_bounce(event_id: int, message_id: str, address: str) -> dict:
    return {
        "RecordType": "Bounce",
        "ID": event_id,
        "Type": "HardBounce",
        "TypeCode": 1,
        "MessageID": message_id,
        "Email": address,
        "BouncedAt": "2026-06-19T08:00:00Z",
        "Description": "The server was unable to deliver your message",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Tag": "digest",
        "Metadata": {"digest_id": "1"},
        "MessageStream": "outbound",
    }


@pytest.fixture
def webhook(settings, client):
    # Postmark is the ESP we send through, so its tracking route (and only it) answers.
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret"}
    auth = "Basic " + base64.b64encode(b"hook:s3cret").decode()

    def post(payload: dict, authorization: str | None = auth):
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        return client.post(
            "/anymail/postmark/tracking/",
            data=json.dumps(payload),
            content_type="application/json",
            **headers,
        )

    return post


@pytest.mark.django_db
def test_a_bounce_webhook_suppresses_the_address_once(webhook):
    reader = make_subscriber(email="Gone@Example.org")
    digest = Digest.objects.create(subscriber=reader, issue_date=DAY)
    Delivery.objects.create(digest=digest, status="sent", esp_message_id="msg-1")

    first = webhook(_postmark_bounce(42, "msg-1", "gone@example.org"))
    again = webhook(_postmark_bounce(42, "msg-1", "gone@example.org"))

    assert (first.status_code, again.status_code) == (200, 200)
    assert Subscriber.objects.get(pk=reader.pk).status == "suppressed"
    assert Delivery.objects.get(digest=digest).status == "bounced"
    assert TrackingEvent.objects.count() == 1


@pytest.mark.django_db
def test_an_unauthenticated_webhook_is_refused_without_effect(webhook):
    reader = make_subscriber(email="stays@example.org")

    response = webhook(_postmark_bounce(43, "msg-2", "stays@example.org"), authorization=None)

    assert response.status_code == 400
    assert Subscriber.objects.get(pk=reader.pk).status == "active"
    assert TrackingEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_suppressed_reader_gets_nothing_more(recorded_arxiv, outbox_dir, three_readers):
    Subscriber.objects.filter(email="paris@example.org").update(status="suppressed")

    call_command("run_daily", "--date", "2026-06-18", stdout=io.StringIO())

    assert "paris@example.org" not in [m["To"] for m in _messages(outbox_dir)]
    assert len(_messages(outbox_dir)) == 2


@pytest.mark.django_db
def test_feedback_links_show_a_button_and_the_post_records_it(client):
    reader = make_subscriber()
    paper = make_paper(title="<b>Bold</b> claims")
    url = f"/f/{feedback_token(subscriber_id=reader.pk, paper_id=paper.pk, signal='less')}/"

    page = client.get(url)
    assert page.status_code == 200 and b"&lt;b&gt;Bold&lt;/b&gt;" in page.content
    assert Feedback.objects.count() == 0

    client.post(url)
    client.post(url)
    assert list(Feedback.objects.values_list("subscriber_id", "paper_id", "signal")) == [
        (reader.pk, paper.pk, "less")
    ]
    assert client.post(url[:-3] + "xx/").status_code == 400


@pytest.fixture
def one_digest(recorded_arxiv):
    day_ingest(categories=["cs.CL", "cs.AI", "cs.LG"], date=DAY)
    reader = make_subscriber(email="ada@example.org", keywords=["reinforcement learning"])
    return digest_assemble(subscriber=reader, issue_date=DAY)


@pytest.mark.django_db
def test_through_the_esp_the_message_carries_headers_tag_and_metadata(esp, one_digest):
    report = digests_send(issue_date=DAY, everyone=True)

    assert report.sent == 1
    (sent,) = esp.messages
    headers = {h["Name"]: h["Value"] for h in sent["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/u/" in headers["List-Unsubscribe"]
    assert sent["Tag"] == "digest"
    assert sent["Metadata"]["digest_id"] == str(one_digest.pk)
    assert sent["HtmlBody"] and sent["TextBody"]
    delivery = Delivery.objects.get(digest=one_digest)
    assert (delivery.status, delivery.esp_message_id) == ("sent", sent["MessageID"])


@pytest.mark.django_db
def test_an_esp_500_is_retried_and_the_digest_sent_once(esp, one_digest):
    esp.plan("status", status=500)

    report = digests_send(issue_date=DAY, everyone=True)

    delivery = Delivery.objects.get(digest=one_digest)
    assert report.sent == 1 and len(esp.messages) == 1
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert [r["status"] for r in esp.requests] == [500, 200]


@pytest.mark.django_db
def test_an_esp_down_is_retried_later_with_backoff_until_the_deadline(esp, one_digest, settings):
    # given an ESP answering 503 to everything
    settings.SEND_DEADLINE_HOURS = 6
    esp.plan("status", status=503, times=50)

    # when the digest is sent once
    before = timezone.now()
    first = delivery_send(digest=one_digest)

    # then it is queued again with a next try 30-38 s away (backoff with jitter)
    delivery = Delivery.objects.get(digest=one_digest)
    assert first == SendOutcome.RETRY
    assert delivery.status == "queued" and delivery.attempts == 1
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 30 <= wait <= 38
    # a later try waits longer, and never more than about 15 minutes
    assert retry_delay(3) >= dt.timedelta(minutes=2)
    assert dt.timedelta(minutes=15) <= retry_delay(12) <= dt.timedelta(minutes=19)

    # when the deadline has passed and it fails again
    Digest.objects.filter(pk=one_digest.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=6, minutes=1)
    )
    one_digest.refresh_from_db()
    last = delivery_send(digest=one_digest)

    # then it is recorded as failed, saying why, and never tried again
    delivery.refresh_from_db()
    assert last == SendOutcome.FAILED
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert delivery.last_error.startswith("still failing at the deadline (6 h)")
    assert delivery_send(digest=one_digest) == SendOutcome.SKIPPED
    assert len(esp.requests) == 2 and esp.messages == []


@pytest.mark.django_db
def test_a_refused_recipient_is_recorded_and_not_retried(esp, one_digest):
    esp.refuse_addresses.add("ada@example.org")

    first = digests_send(issue_date=DAY, everyone=True)
    second = digests_send(issue_date=DAY, everyone=True)

    delivery = Delivery.objects.get(digest=one_digest)
    assert (first.failed, second.failed) == (1, 0)
    assert delivery.status == "failed" and "recipient refused" in delivery.last_error
    assert len(esp.requests) == 1


@pytest.mark.django_db
def test_an_esp_that_does_not_answer_is_never_retried_blindly(esp, one_digest, settings):

    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": 0.3}
    esp.plan("hang", seconds=1)

    digests_send(issue_date=DAY, everyone=True)
    digests_send(issue_date=DAY, everyone=True)

    delivery = Delivery.objects.get(digest=one_digest)
    assert delivery.status == "sending" and "no answer from the ESP" in delivery.last_error
    assert len(esp.requests) == 1  # the ESP may have sent it: not sent again
    later = delivery.claimed_at + dt.timedelta(minutes=31)
    assert list(deliveries_stuck(now=later)) == [delivery]


@pytest.mark.django_db
def test_a_chinese_readers_subject_and_labels_are_in_chinese(recorded_arxiv, outbox_dir):
    make_subscriber(
        email="zh@example.org",
        language="zh",
        keywords=["reinforcement learning"],
        categories=["cs.LG"],
    )

    call_command("run_daily", "--date", "2026-06-18", stdout=io.StringIO())

    (message,) = _messages(outbox_dir)
    assert message["Subject"].strip().startswith("arXiv 论文日报 2026-06-18：")
    text = message.get_body(("plain",)).get_content()
    assert "今日简报" in text and "关键词：reinforcement learning" in text


@pytest.mark.django_db(transaction=True)
def test_two_senders_racing_on_the_same_digests_send_each_once(recorded_arxiv, outbox_dir):
    if connection.vendor != "postgresql":
        pytest.skip("racing senders need a database with row-level concurrency (PostgreSQL)")
    # given twelve readers with assembled digests
    day_ingest(categories=["cs.CL", "cs.AI", "cs.LG"], date=DAY)
    readers = [make_subscriber(keywords=["reinforcement learning"]) for _ in range(12)]
    digests = [digest_assemble(subscriber=r, issue_date=DAY) for r in readers]

    def send_all() -> list[str]:
        try:
            return [delivery_send(digest=Digest.objects.get(pk=d.pk)).value for d in digests]
        finally:
            connections.close_all()

    # when two senders go through the same list at the same time
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = [o for result in pool.map(lambda _: send_all(), range(2)) for o in result]

    # then every digest went out exactly once
    assert outcomes.count("sent") == 12 and outcomes.count("skipped") == 12
    assert sorted(m["To"] for m in _messages(outbox_dir)) == sorted(r.email for r in readers)
    assert Delivery.objects.filter(status="sent", attempts=1).count() == 12


@pytest.mark.django_db
def test_view_in_browser_shows_the_whole_digest_behind_its_signed_link(
    recorded_arxiv, outbox_dir, client
):
    reader = make_subscriber(keywords=["reinforcement learning"], categories=["cs.LG"])
    call_command("run_daily", "--date", "2026-06-18", stdout=io.StringIO())
    (message,) = _messages(outbox_dir)
    text = message.get_body(("plain",)).get_content()
    url = next(
        line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("View in browser")
    )
    digest = Digest.objects.get(subscriber=reader)

    page = client.get(url.removeprefix("http://127.0.0.1:8000"))

    assert page.status_code == 200
    body = page.content.decode()
    for item in digest.items.select_related("paper"):
        assert item.paper.arxiv_id in body
    assert client.get(url.removeprefix("http://127.0.0.1:8000")[:-4] + "xx/").status_code == 400


@pytest.mark.django_db
def test_delivered_opened_and_clicked_events_are_recorded(webhook):
    reader = make_subscriber(email="reads@example.org")
    digest = Digest.objects.create(subscriber=reader, issue_date=DAY)
    Delivery.objects.create(digest=digest, status="sent", esp_message_id="msg-9")
    base = {"MessageID": "msg-9", "Recipient": "reads@example.org", "Tag": "digest",
            "Metadata": {}, "MessageStream": "outbound"}  # fmt: skip

    webhook({**base, "RecordType": "Delivery", "DeliveredAt": "2026-06-19T08:00:01Z"})
    webhook({**base, "RecordType": "Open", "ReceivedAt": "2026-06-19T09:00:00Z", "FirstOpen": True})
    webhook({**base, "RecordType": "Click", "ReceivedAt": "2026-06-19T09:01:00Z",
             "OriginalLink": "https://arxiv.org/abs/2606.18831v1"})  # fmt: skip

    delivery = Delivery.objects.get(digest=digest)
    assert delivery.status == "delivered"
    assert delivery.opened_at == dt.datetime(2026, 6, 19, 9, 0, tzinfo=dt.UTC)
    assert delivery.clicked_at == dt.datetime(2026, 6, 19, 9, 1, tzinfo=dt.UTC)
    assert Subscriber.objects.get(pk=reader.pk).status == "active"
