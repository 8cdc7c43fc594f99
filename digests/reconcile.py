"""Deliveries left "sending" settled by the ESP's own log, so nothing is lost or sent twice.

A worker killed during the ESP call, or a request that timed out after it went out, leaves a
delivery claimed but unconfirmed: the ESP may or may not have the message. Resending blindly
could send it twice; never resending could lose it. Where the ESP can be asked (Postmark's
outbound message search by metadata), a delivery stuck for RECONCILE_AFTER is looked up by its
digest id: found → marked sent with the ESP's message id; absent → queued again. Elsewhere it
stays for staff (the admin's "stuck in sending" filter).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from digests.models import Delivery, Digest

__all__ = ["RECONCILE_AFTER", "ReconcileReport", "deliveries_reconcile", "esp_log_lookup"]

log = logging.getLogger(__name__)

# Long enough for the ESP's search to show a message it accepted (Postmark: seconds).
RECONCILE_AFTER = dt.timedelta(minutes=10)
POSTMARK_API = "https://api.postmarkapp.com/"

Lookup = Callable[[int], str | None]  # digest id → the ESP's message id, or None if absent


@dataclass
class ReconcileReport:
    confirmed: int = 0
    requeued: list[int] = field(default_factory=list)  # digest ids to send again
    unknown: int = 0

    def summary(self) -> str:
        return (
            f"stuck deliveries: {self.confirmed} confirmed sent by the ESP, "
            f"{len(self.requeued)} queued again, {self.unknown} left for staff"
        )


def _postmark_lookup(digest_id: int) -> str | None:
    anymail = settings.ANYMAIL
    query: dict[str, str | int] = {"count": 1, "offset": 0, "metadata_digest_id": str(digest_id)}
    response = requests.get(
        urljoin(anymail.get("POSTMARK_API_URL", POSTMARK_API), "messages/outbound"),
        params=query,
        headers={
            "Accept": "application/json",
            "X-Postmark-Server-Token": anymail.get("POSTMARK_SERVER_TOKEN", ""),
        },
        timeout=15,
    )
    response.raise_for_status()
    messages = response.json().get("Messages") or []
    return str(messages[0]["MessageID"]) if messages else None


def esp_log_lookup() -> Lookup | None:
    """How to ask the configured ESP whether it accepted a digest, if it can be asked."""
    if settings.EMAIL_BACKEND == "anymail.backends.postmark.EmailBackend":
        return _postmark_lookup
    return None


def _settle(delivery: Delivery, message_id: str | None, now: dt.datetime) -> bool:
    """Record what the ESP said, unless someone settled it first; True if this call did."""
    stuck = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING)
    if message_id:
        with transaction.atomic():
            changed = stuck.update(
                status=Delivery.Status.SENT,
                esp_message_id=message_id,
                sent_at=now,
                last_error="confirmed sent by the ESP's log after an unanswered send",
                updated_at=now,
            )
            if changed:
                Digest.objects.filter(pk=delivery.digest_id).update(status=Digest.Status.SENT)
        return bool(changed)
    return bool(
        stuck.update(
            status=Delivery.Status.QUEUED,
            next_attempt_at=now,
            last_error="not in the ESP's log after an unanswered send: sent again",
            updated_at=now,
        )
    )


def deliveries_reconcile(*, now: dt.datetime | None = None) -> ReconcileReport:
    now = now or timezone.now()
    report = ReconcileReport()
    stuck = list(
        Delivery.objects.filter(
            status=Delivery.Status.SENDING, claimed_at__lt=now - RECONCILE_AFTER
        ).order_by("pk")
    )
    lookup = esp_log_lookup()
    if lookup is None:
        report.unknown = len(stuck)
        return report
    for delivery in stuck:
        try:
            message_id = lookup(delivery.digest_id)
        except (requests.RequestException, ValueError, KeyError) as error:
            log.warning("digest %s: the ESP's log could not be read: %s", delivery.digest_id, error)
            report.unknown += 1
            continue
        if not _settle(delivery, message_id, now):
            continue
        if message_id:
            report.confirmed += 1
        else:
            report.requeued.append(delivery.digest_id)
    return report
