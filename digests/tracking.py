"""ESP tracking events, through Anymail's `tracking` signal (our one signal integration).

Anymail validates the webhook (basic auth: ANYMAIL_WEBHOOK_SECRET; newsletter/webhooks.py
mounts only the configured ESP's route, and only with a secret) and normalises each event.
Here an event acts only on a digest we sent: its message id must be a Delivery's and its
recipient that digest's reader; anything else changes nothing. Then, by meaning:

- a hard bounce or a complaint suppresses the reader at once;
- a soft or transient bounce (mailbox full, greylisting, a deferral) is counted, and the reader
  is suppressed once SOFT_BOUNCE_LIMIT digests bounced softly within SOFT_BOUNCE_WINDOW_DAYS
  (a digest the ESP later reports delivered does not count);
- the ESP's unsubscribe (or manual suppression) unsubscribes the reader.

Each such decision is a TrackingDecision row staff see in admin. Delivered, opened and clicked
update the Delivery. Events are deduplicated. An error raised here answers 500, so the ESP
retries; a duplicate is acknowledged and ignored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable, Mapping

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from digests.feedback import click_record
from digests.models import Delivery, TrackingDecision
from digests.models.tracking import Decision
from digests.models.tracking import EventMeaning as Meaning
from subscribers.models import Subscriber, TrackingEvent
from subscribers.services import subscriber_suppress, subscriber_unsubscribe

__all__ = ["event_meaning", "tracking_event_handle"]

log = logging.getLogger(__name__)

PROGRESS = {EventType.DELIVERED: Delivery.Status.DELIVERED}
MEANING_STATUS = {
    Meaning.HARD_BOUNCE: Delivery.Status.BOUNCED,
    Meaning.COMPLAINT: Delivery.Status.COMPLAINED,
}
# A later state never goes back to an earlier one.
ORDER = [
    Delivery.Status.SENT,
    Delivery.Status.DELIVERED,
    Delivery.Status.BOUNCED,
    Delivery.Status.COMPLAINED,
]


def _raw(event: AnymailTrackingEvent) -> Mapping:
    return event.esp_event if isinstance(event.esp_event, Mapping) else {}


def _mailgun_data(event: AnymailTrackingEvent) -> Mapping:
    data = _raw(event).get("event-data")
    return data if isinstance(data, Mapping) else {}


# What each ESP says beyond Anymail's normalisation (django-anymail 15): Anymail maps Postmark's
# SoftBounce, Brevo's soft_bounce, a Mailjet bounce without hard_bounce, SendGrid's "blocked"
# bounce and SES's Transient bounce to "bounced", like a hard one; only the raw event tells.
# (Mailgun's temporary failures and Postmark's Transient/DnsError already arrive "deferred".)
SOFT_SIGNS: dict[str, Callable[[AnymailTrackingEvent], bool]] = {
    "Postmark": lambda e: _raw(e).get("Type") in {"SoftBounce", "Transient", "DnsError"},
    "SendGrid": lambda e: (
        _raw(e).get("type") == "blocked" or str(_raw(e).get("status", "")).startswith("4")
    ),
    "Mailjet": lambda e: _raw(e).get("hard_bounce") is False,
    "Brevo": lambda e: _raw(e).get("event") == "soft_bounce",
    "SendinBlue": lambda e: _raw(e).get("event") == "soft_bounce",
    "Mailgun": lambda e: _mailgun_data(e).get("severity") == "temporary",
    "Amazon SES": lambda e: (e.description or "").startswith(("Transient", "Undetermined")),
}
# Otherwise the receiving server's reply decides: a 4xx (or 4.x.x) status is temporary.
_TEMPORARY_REPLY = re.compile(r"^\D{0,12}(4\d\d\b|4\.\d{1,3}\.\d{1,3}\b)")


def _soft(event: AnymailTrackingEvent, esp_name: str) -> bool:
    sign = SOFT_SIGNS.get(esp_name)
    if sign is not None and sign(event):
        return True
    return bool(_TEMPORARY_REPLY.match(event.mta_response or ""))


def event_meaning(*, event: AnymailTrackingEvent, esp_name: str) -> Meaning | None:
    """What an event means for the reader's mail, or None if it means nothing for it."""
    kind, reason = event.event_type, event.reject_reason
    if kind == EventType.COMPLAINED:
        return Meaning.COMPLAINT
    if kind == EventType.UNSUBSCRIBED or (
        kind == EventType.REJECTED and reason == RejectReason.UNSUBSCRIBED
    ):
        return Meaning.UNSUBSCRIBE
    if kind == EventType.DEFERRED:
        return Meaning.SOFT_BOUNCE
    if kind == EventType.BOUNCED or (
        kind == EventType.REJECTED and reason in {RejectReason.BOUNCED, RejectReason.INVALID}
    ):
        return Meaning.SOFT_BOUNCE if _soft(event, esp_name) else Meaning.HARD_BOUNCE
    if kind == EventType.REJECTED:
        # Blocked by policy, content or the ESP's own filters: not proof the address is dead.
        return Meaning.SOFT_BOUNCE
    return None


def _esp_event_type(event: AnymailTrackingEvent) -> str:
    raw, mailgun = _raw(event), _mailgun_data(event)
    for value in (
        raw.get("Type"),
        raw.get("SuppressionReason"),
        raw.get("RecordType"),
        raw.get("event") if isinstance(raw.get("event"), str) else None,
        mailgun.get("event"),
        event.description,
    ):
        if isinstance(value, str) and value:
            return value[:64]
    return ""


def _key(event: AnymailTrackingEvent, esp_name: str) -> str:
    if event.event_id and len(event.event_id) <= 200:
        return f"{esp_name}:{event.event_id}"
    raw = f"{esp_name}|{event.event_id}|{event.event_type}|{event.message_id}|{event.recipient}"
    return f"{esp_name}:sha256:{hashlib.sha256(f'{raw}|{event.timestamp}'.encode()).hexdigest()}"


def _record(
    *,
    event: AnymailTrackingEvent,
    esp_name: str,
    meaning: Meaning,
    decision: Decision,
    reason: str,
    delivery: Delivery | None = None,
) -> TrackingDecision:
    return TrackingDecision.objects.create(
        esp=esp_name[:32],
        event_type=str(event.event_type)[:32],
        esp_event_type=_esp_event_type(event),
        message_id=(event.message_id or "")[:255],
        occurred_at=event.timestamp,
        subscriber=delivery.digest.subscriber if delivery else None,
        delivery=delivery,
        meaning=meaning,
        decision=decision,
        reason=reason[:500],
        esp_reason=(event.description or event.mta_response or "")[:500],
    )


def _soft_bounces(subscriber: Subscriber, now: dt.datetime) -> int:
    """Digests that bounced softly within the window and were not delivered after all."""
    since = now - dt.timedelta(days=settings.SOFT_BOUNCE_WINDOW_DAYS)
    return (
        TrackingDecision.objects.filter(
            subscriber=subscriber, meaning=Meaning.SOFT_BOUNCE, received_at__gte=since
        )
        .exclude(decision=Decision.IGNORED)
        .exclude(delivery__status=Delivery.Status.DELIVERED)
        .order_by()
        .values("message_id")
        .distinct()
        .count()
    )


def _decide(
    *, event: AnymailTrackingEvent, esp_name: str, meaning: Meaning, delivery: Delivery
) -> TrackingDecision:
    # Locked, so two soft bounces arriving together are counted one after the other.
    reader = Subscriber.objects.select_for_update().get(pk=delivery.digest.subscriber_id)
    said = f"{esp_name} {_esp_event_type(event) or event.event_type}"
    if meaning == Meaning.UNSUBSCRIBE:
        done = subscriber_unsubscribe(subscriber=reader)
        decision = Decision.UNSUBSCRIBED if done else Decision.UNCHANGED
        return _record(
            event=event, esp_name=esp_name, meaning=meaning, decision=decision,
            reason=f"{said}: the reader unsubscribed at the ESP", delivery=delivery,
        )  # fmt: skip
    if meaning != Meaning.SOFT_BOUNCE:
        done = bool(subscriber_suppress(email=reader.email))
        decision = Decision.SUPPRESSED if done else Decision.UNCHANGED
        return _record(
            event=event, esp_name=esp_name, meaning=meaning, decision=decision,
            reason=f"{said}: {meaning.label} suppresses at once", delivery=delivery,
        )  # fmt: skip
    row = _record(
        event=event, esp_name=esp_name, meaning=meaning, decision=Decision.COUNTED,
        reason=f"{said}: soft bounce", delivery=delivery,
    )  # fmt: skip
    limit, days = settings.SOFT_BOUNCE_LIMIT, settings.SOFT_BOUNCE_WINDOW_DAYS
    count = _soft_bounces(reader, row.received_at)
    row.reason = f"{said}: soft bounce, {count} of {limit} digests within {days} days"
    if count >= limit:
        done = bool(subscriber_suppress(email=reader.email))
        row.decision = Decision.SUPPRESSED if done else Decision.UNCHANGED
        row.reason += ": the limit is reached"
    row.save(update_fields=["decision", "reason"])
    return row


def _delivery_for(event: AnymailTrackingEvent) -> Delivery | None:
    if not event.message_id:
        return None
    return (
        Delivery.objects.select_related("digest__subscriber")
        .filter(esp_message_id=event.message_id)
        .exclude(esp_message_id="")
        .first()
    )


def _sent_to(delivery: Delivery, address: str) -> bool:
    return address.strip().casefold() == delivery.digest.subscriber.email.casefold()


@transaction.atomic
def tracking_event_handle(*, event: AnymailTrackingEvent, esp_name: str) -> bool:
    """Apply one event; return False when it changed nothing (unknown, foreign or seen)."""
    meaning = event_meaning(event=event, esp_name=esp_name)
    if meaning is None and event.event_type not in {*PROGRESS, "opened", "clicked"}:
        return False
    delivery = _delivery_for(event)
    refusal = ""
    if delivery is None:
        refusal = "no digest we sent has this message id"
    elif (
        event.recipient
        and event.recipient.casefold() != delivery.digest.subscriber.email.casefold()
    ):
        refusal = "the recipient is not the reader this digest was sent to"
    if refusal:
        if meaning is not None:
            _record(
                event=event, esp_name=esp_name, meaning=meaning, decision=Decision.IGNORED,
                reason=refusal, delivery=delivery,
            )  # fmt: skip
        log.info("ignored a %s %s event: %s", esp_name, event.event_type, refusal)
        return False
    assert delivery is not None
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(
                key=_key(event, esp_name),
                event_type=str(event.event_type)[:32],
                esp_message_id=event.message_id or "",
                recipient=event.recipient or "",
            )
    except IntegrityError:
        return False
    if meaning is not None:
        decided = _decide(event=event, esp_name=esp_name, meaning=meaning, delivery=delivery)
        log.info("%s event %s: %s", esp_name, event.event_type, decided.decision)
    if event.event_type == "clicked" and event.click_url:
        click_record(delivery=delivery, url=event.click_url)
    first_seen = {"opened": "opened_at", "clicked": "clicked_at"}.get(event.event_type)
    if first_seen:
        Delivery.objects.filter(pk=delivery.pk, **{first_seen: None}).update(
            **{first_seen: event.timestamp or timezone.now()}
        )
    status = PROGRESS.get(event.event_type) or (MEANING_STATUS.get(meaning) if meaning else None)
    if status:
        later = ORDER[ORDER.index(status) :]
        Delivery.objects.filter(pk=delivery.pk).exclude(status__in=later).update(status=status)
    return True


def on_tracking(sender: object, event: AnymailTrackingEvent, esp_name: str, **_: object) -> None:
    tracking_event_handle(event=event, esp_name=esp_name)
