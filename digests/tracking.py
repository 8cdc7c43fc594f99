"""ESP tracking events, through Anymail's `tracking` signal (our one signal integration).

Anymail validates the webhook (basic auth: ANYMAIL_WEBHOOK_SECRET) and normalises each event.
Here: deduplicate by event, suppress bounced and complaining addresses at once, and record
delivered (status) and the first open and click (times) on the digest's Delivery. An error
raised here answers 500, so the ESP retries; a duplicate is acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import logging

from anymail.signals import AnymailTrackingEvent
from django.db import IntegrityError, transaction
from django.utils import timezone

from digests.models import Delivery
from subscribers.models import TrackingEvent
from subscribers.services import subscriber_suppress

__all__ = ["tracking_event_handle"]

log = logging.getLogger(__name__)

SUPPRESSING = {"bounced": Delivery.Status.BOUNCED, "complained": Delivery.Status.COMPLAINED}
PROGRESS = {"delivered": Delivery.Status.DELIVERED}
# A later state never goes back to an earlier one.
ORDER = [
    Delivery.Status.SENT,
    Delivery.Status.DELIVERED,
    Delivery.Status.BOUNCED,
    Delivery.Status.COMPLAINED,
]


def _key(event: AnymailTrackingEvent, esp_name: str) -> str:
    if event.event_id:
        return f"{esp_name}:{event.event_id}"
    raw = f"{esp_name}|{event.event_type}|{event.message_id}|{event.recipient}|{event.timestamp}"
    return f"{esp_name}:sha256:{hashlib.sha256(raw.encode()).hexdigest()}"


@transaction.atomic
def tracking_event_handle(*, event: AnymailTrackingEvent, esp_name: str) -> bool:
    """Apply one event; return False when it was seen before."""
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(
                key=_key(event, esp_name),
                event_type=event.event_type,
                esp_message_id=event.message_id or "",
                recipient=event.recipient or "",
            )
    except IntegrityError:
        return False
    if event.event_type in SUPPRESSING and event.recipient:
        subscriber_suppress(email=event.recipient)
        log.info("suppressed a recipient after %s", event.event_type)
    first_seen = {"opened": "opened_at", "clicked": "clicked_at"}.get(event.event_type)
    if first_seen and event.message_id:
        Delivery.objects.filter(esp_message_id=event.message_id, **{first_seen: None}).update(
            **{first_seen: event.timestamp or timezone.now()}
        )
    status = SUPPRESSING.get(event.event_type) or PROGRESS.get(event.event_type)
    if status and event.message_id:
        later = ORDER[ORDER.index(status) :]
        Delivery.objects.filter(esp_message_id=event.message_id).exclude(status__in=later).update(
            status=status
        )
    return True


def on_tracking(sender: object, event: AnymailTrackingEvent, esp_name: str, **_: object) -> None:
    tracking_event_handle(event=event, esp_name=esp_name)
