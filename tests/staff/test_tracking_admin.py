"""Staff see each tracking decision (event, ESP, message id, reader, reason), read-only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from digests.models import Delivery, Digest, TrackingDecision
from tests.factories import make_subscriber


def _decisions(count: int) -> list[TrackingDecision]:
    rows = []
    for _ in range(count):
        reader = make_subscriber()
        digest = Digest.objects.create(subscriber=reader, issue_date=dt.date(2026, 6, 18))
        delivery = Delivery.objects.create(
            digest=digest, status="bounced", esp_message_id=f"pm-{reader.pk}"
        )
        rows.append(
            TrackingDecision.objects.create(
                esp="Postmark",
                event_type="bounced",
                esp_event_type="HardBounce",
                message_id=delivery.esp_message_id,
                subscriber=reader,
                delivery=delivery,
                meaning="hard_bounce",
                decision="suppressed",
                reason="Postmark HardBounce: hard bounce suppresses at once",
                esp_reason="smtp;550 5.1.1 unknown user",
            )
        )
    return rows


URL = "admin:digests_trackingdecision_"


@pytest.mark.django_db
def test_staff_list_the_decisions_for_the_same_queries_whatever_their_number(
    admin_client: Client, django_assert_max_num_queries
) -> None:
    _decisions(3)
    with django_assert_max_num_queries(12) as with_3:
        admin_client.get(reverse(URL + "changelist"))
    rows = _decisions(17)

    with django_assert_max_num_queries(12) as with_20:
        response = admin_client.get(reverse(URL + "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == 20
    assert len(with_20) == len(with_3)
    body = response.content.decode()
    assert rows[0].message_id in body and "hard bounce suppresses at once" in body


@pytest.mark.django_db
def test_a_decision_is_shown_but_cannot_be_added_or_edited(admin_client: Client) -> None:
    row = _decisions(1)[0]

    page = admin_client.get(reverse(URL + "change", args=[row.pk]))
    posted = admin_client.post(reverse(URL + "change", args=[row.pk]), {"decision": "ignored"})

    assert page.status_code == 200 and b"smtp;550 5.1.1 unknown user" in page.content
    assert admin_client.get(reverse(URL + "add")).status_code == 403
    assert posted.status_code == 403
    assert TrackingDecision.objects.get(pk=row.pk).decision == "suppressed"
