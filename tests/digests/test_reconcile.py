"""Deliveries left "sending" by a crash are settled by the ESP's log: never lost, never twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.mail import EmailMessage
from django.utils import timezone

from digests.assemble import digest_assemble
from digests.models import Delivery, Digest, IngestDay
from digests.reconcile import RECONCILE_AFTER, deliveries_reconcile
from tests.factories import make_paper, make_subscriber

DAY = dt.date(2026, 6, 18)


def _stuck_digest(claimed_ago: dt.timedelta) -> Digest:
    """A digest whose send was cut off: claimed, never confirmed."""
    make_paper(title=f"Sparse attention {claimed_ago}")
    digest = digest_assemble(
        subscriber=make_subscriber(keywords=["sparse attention"], min_relevance=1), issue_date=DAY
    )
    Delivery.objects.create(
        digest=digest, status="sending", attempts=1, claimed_at=timezone.now() - claimed_ago
    )
    return digest


def _esp_accepts(digest: Digest) -> None:
    """What a worker killed after the ESP call had done: the ESP holds the message."""
    message = EmailMessage("digest", "body", "d@example.org", [digest.subscriber.email])
    message.metadata = {"digest_id": str(digest.pk)}
    message.send()


@pytest.mark.django_db
def test_the_esps_log_settles_each_stuck_delivery(esp):
    # given three stuck deliveries: one the ESP accepted, one it never got, one too recent
    accepted = _stuck_digest(RECONCILE_AFTER + dt.timedelta(minutes=1))
    _esp_accepts(accepted)
    never_got = _stuck_digest(RECONCILE_AFTER + dt.timedelta(minutes=1))
    recent = _stuck_digest(dt.timedelta(minutes=1))

    # when the stuck deliveries are reconciled
    report = deliveries_reconcile()

    # then the accepted one is sent with the ESP's id, the other queued again, the recent kept
    sent = Delivery.objects.get(digest=accepted)
    assert (sent.status, sent.esp_message_id) == ("sent", esp.messages[0]["MessageID"])
    assert Digest.objects.get(pk=accepted.pk).status == "sent"
    again = Delivery.objects.get(digest=never_got)
    assert again.status == "queued" and "sent again" in again.last_error
    assert Delivery.objects.get(digest=recent).status == "sending"
    assert (report.confirmed, report.requeued, report.unknown) == (1, [never_got.pk], 0)
    # and asking twice changes nothing more
    assert deliveries_reconcile().summary() == (
        "stuck deliveries: 0 confirmed sent by the ESP, 0 queued again, 0 left for staff"
    )


@pytest.mark.django_db
def test_an_esp_that_cannot_be_asked_leaves_them_for_staff(settings):
    # given the file backend (no log to ask) and a stuck delivery
    stuck = _stuck_digest(RECONCILE_AFTER * 2)

    report = deliveries_reconcile()

    assert (report.confirmed, report.requeued, report.unknown) == (0, [], 1)
    assert Delivery.objects.get(digest=stuck).status == "sending"


@pytest.mark.django_db
def test_an_unreachable_esp_log_changes_nothing(esp, settings):
    # given a stuck delivery and an ESP whose log answers with the wrong token
    stuck = _stuck_digest(RECONCILE_AFTER * 2)
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "wrong"}

    report = deliveries_reconcile()

    assert report.unknown == 1
    assert Delivery.objects.get(digest=stuck).status == "sending"


@pytest.mark.django_db
def test_the_tick_sends_again_what_the_esp_never_got(esp):
    # given a day ready and a digest stuck long ago that the ESP never received
    from digests import tasks

    now = timezone.now()
    IngestDay.objects.create(date=DAY, status="announced", started_at=now, ready_at=now)
    never_got = _stuck_digest(RECONCILE_AFTER * 3)

    # when the quarter-hour tick runs (tasks run eagerly in this test)
    summary = tasks.digests_send_due()

    # then the ESP got it once, now, and the delivery is sent
    assert "1 queued again" in summary
    assert [m["Metadata"]["digest_id"] for m in esp.messages] == [str(never_got.pk)]
    assert Delivery.objects.get(digest=never_got).status == "sent"
