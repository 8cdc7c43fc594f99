"""Step 6: send a digest at most once.

The Delivery row is claimed (queued → sending) with a conditional update before the ESP is
called, and marked sent with the ESP's message id after. A transient ESP error (429, 5xx, no
connection) puts it back in the queue for a later try; a permanent one (refused recipient, bad
request) is recorded and never retried. A delivery left in "sending" (a crash mid-send, or a
request that timed out after it went out: the ESP may have sent it) is never re-sent blindly:
`deliveries_stuck` lists it for staff.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import random
import threading

import requests
from anymail.exceptions import AnymailError, AnymailRecipientsRefused, AnymailRequestsAPIError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from digests.mail.compose import Composer
from digests.mail.views import papers_shown
from digests.models import Delivery, Digest, Paper
from digests.render import RenderedEmail
from newsletter.logs import log_context
from subscribers.tokens import unsubscribe_token

__all__ = [
    "SendOutcome",
    "cards_warm",
    "deliveries_stuck",
    "delivery_send",
    "emails_render",
    "esp_connection",
    "esp_connection_close",
    "message_build",
    "retry_delay",
    "send_deadline",
]

log = logging.getLogger(__name__)

RETRY_LONGEST = dt.timedelta(minutes=15)
STUCK_AFTER = dt.timedelta(minutes=30)
TRANSIENT_STATUSES = {408, 429, 500, 502, 503, 504}


class SendOutcome(enum.StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # not ours to send: empty, already claimed or done, reader gone
    RETRY = "retry"  # transient failure: queued again
    FAILED = "failed"  # permanent failure, recorded


def _claim(digest: Digest) -> Delivery | None:
    """Take the digest's delivery for this worker; None if someone else has it or it is done.

    Two statements in one transaction (one commit) whatever happens: the row is made if
    missing (INSERT … ON CONFLICT DO NOTHING: a second sender's insert does nothing), then
    taken by a conditional UPDATE … RETURNING, which only one sender's can match (the database
    serialises the two updates of the row; the second finds it no longer queued)."""
    quote = connection.ops.quote_name
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic():
        Delivery.objects.bulk_create([Delivery(digest=digest)], ignore_conflicts=True)
        taken = Delivery.objects.raw(
            f"UPDATE {quote(Delivery._meta.db_table)} SET {quote('status')} = %s, "  # noqa: S608
            f"{quote('claimed_at')} = %s, {quote('attempts')} = {quote('attempts')} + 1 "
            f"WHERE {quote('digest_id')} = %s AND {quote('status')} = %s RETURNING *",
            [Delivery.Status.SENDING, now, digest.pk, Delivery.Status.QUEUED],
        )
        return next(iter(taken), None)


def _unsubscribe_headers(digest: Digest) -> dict[str, str]:
    """RFC 2369 and RFC 8058 one-click: the https URL the provider POSTs to.

    No mailto: nothing reads mail sent to the sender address, so it would reach nobody.
    """
    token = unsubscribe_token(subscriber_id=digest.subscriber_id, email=digest.subscriber.email)
    url = settings.SITE_URL + reverse("subscribers:unsubscribe", args=[token])
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


_COMPOSER = Composer()  # per process: a day's cards and layouts compiled once
_LOCAL = threading.local()  # per thread (the chunk's sending threads), per process (forks)


def esp_connection() -> BaseEmailBackend:
    """This thread's connection to the ESP, opened once and reused for every message (one
    HTTP session with keep-alive for Anymail's backends)."""
    key = (os.getpid(), _mail_settings())
    held: dict[tuple[int, str], BaseEmailBackend] = _LOCAL.__dict__.setdefault("held", {})
    connection = held.get(key)
    if connection is None:
        connection = get_connection(settings.EMAIL_BACKEND)
        connection.open()
        esp_connection_close()
        held[key] = connection
    return connection


def esp_connection_close() -> None:
    """Close this thread's connection to the ESP (a sending thread's, when it is done)."""
    held: dict[tuple[int, str], BaseEmailBackend] = _LOCAL.__dict__.setdefault("held", {})
    for old in held.values():
        old.close()
    held.clear()


def _mail_settings() -> str:
    """What a backend reads when made: a change (tests override them) makes a new one."""
    names = sorted(n for n in dir(settings) if n.startswith(("ANYMAIL", "EMAIL_")))
    return repr([(n, getattr(settings, n)) for n in names])


def emails_render(digests: list[Digest]) -> dict[int, RenderedEmail]:
    """The e-mails of a chunk's digests, by id (see `digests.mail.compose`)."""
    return _COMPOSER.render_chunk(digests)


def cards_warm(*, day: dt.date, papers: list[Paper], languages: list[str]) -> int:
    """Compile the day's cards for each language readers read in, into the cards every process
    shares (CACHE_URL), before sending: the workers then read them instead of each compiling
    them. Nothing to share with a per-process cache: 0."""
    if not _COMPOSER.cards.shared.enabled or not papers:
        return 0
    return sum(
        _COMPOSER.warm(day, language, papers_shown(papers, language)) for language in languages
    )


def message_build(digest: Digest, rendered: RenderedEmail | None = None) -> EmailMultiAlternatives:
    """The digest as one message: text and HTML parts, unsubscribe headers, ESP tags."""
    if rendered is None:
        rendered = _COMPOSER.render_chunk([digest])[digest.pk]
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.subscriber.email],
        headers=_unsubscribe_headers(digest),
        connection=esp_connection(),
    )
    message.attach_alternative(rendered.html, "text/html")
    # Anymail reads these; the file backend ignores them.
    message.tags = ["digest"]  # type: ignore[attr-defined]
    message.metadata = {  # type: ignore[attr-defined]
        "digest_id": str(digest.pk),
        "issue_date": digest.issue_date.isoformat(),
    }
    return message


def _is_ambiguous(error: Exception) -> bool:
    """No answer after the request went out: the ESP may have sent it. Never retried blindly."""
    return isinstance(error, requests.ReadTimeout)


def _is_transient(error: Exception) -> bool:
    """The ESP said "not now" (429, 5xx), or the connection never opened: safe to try again."""
    if isinstance(error, AnymailRequestsAPIError) and error.status_code is not None:
        return error.status_code in TRANSIENT_STATUSES
    return isinstance(error, (requests.ConnectionError, ConnectionError))


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min … (SEND_RETRY_FIRST_SECONDS first)
    at most 15 min between tries."""
    first = dt.timedelta(seconds=settings.SEND_RETRY_FIRST_SECONDS)
    base = min(RETRY_LONGEST, first * 2 ** max(0, attempts - 1))
    return base * (1 + random.random() / 4)


def send_deadline(digest: Digest) -> dt.datetime:
    """Past this, a digest the ESP keeps refusing "for now" is given up and recorded failed."""
    return digest.created_at + dt.timedelta(hours=settings.SEND_DEADLINE_HOURS)


def _record(
    delivery: Delivery,
    status: str,
    error: str = "",
    message_id: str = "",
    next_attempt_at: dt.datetime | None = None,
) -> None:
    delivery.status = status
    delivery.last_error = error[:2000]
    delivery.next_attempt_at = next_attempt_at
    fields = ["status", "last_error", "next_attempt_at", "updated_at"]
    if message_id or status == Delivery.Status.SENT:
        delivery.esp_message_id = message_id
        delivery.sent_at = timezone.now()
        fields += ["esp_message_id", "sent_at"]
    delivery.save(update_fields=fields)


def delivery_send(*, digest: Digest, rendered: RenderedEmail | None = None) -> SendOutcome:
    """Send `digest` unless it was already claimed, sent or failed for good (`rendered`: its
    e-mail when the chunk's were rendered together)."""
    with log_context(digest_id=digest.pk, subscriber_id=digest.subscriber_id):
        return _send(digest, rendered)


def _send(digest: Digest, rendered: RenderedEmail | None) -> SendOutcome:
    if digest.status != Digest.Status.ASSEMBLED or not digest.subscriber.is_active:
        return SendOutcome.SKIPPED
    delivery = _claim(digest)
    if delivery is None:
        return SendOutcome.SKIPPED
    message = message_build(digest, rendered)
    try:
        message.send()
    except AnymailRecipientsRefused as error:
        _record(delivery, Delivery.Status.FAILED, f"recipient refused: {error}")
        return SendOutcome.FAILED
    except (AnymailError, requests.RequestException, OSError) as error:
        if _is_ambiguous(error):
            # Left "sending": deliveries_stuck shows it to staff, who check the ESP's log.
            _record(delivery, Delivery.Status.SENDING, f"no answer from the ESP: {error}")
            log.error("digest %s: no answer from the ESP; may have been sent", digest.pk)
            return SendOutcome.FAILED
        now = timezone.now()
        if _is_transient(error) and now < send_deadline(digest):
            retry_at = now + retry_delay(delivery.attempts)
            note = f"try {delivery.attempts}: {error}"
            _record(delivery, Delivery.Status.QUEUED, note, next_attempt_at=retry_at)
            log.warning("digest %s: transient send error, queued again: %s", digest.pk, error)
            return SendOutcome.RETRY
        if _is_transient(error):
            error = f"still failing at the deadline ({settings.SEND_DEADLINE_HOURS} h): {error}"
        _record(delivery, Delivery.Status.FAILED, str(error))
        log.error("digest %s: send failed for good: %s", digest.pk, error)
        return SendOutcome.FAILED
    status = getattr(message, "anymail_status", None)
    if status is not None and status.status and status.status <= {"rejected", "invalid"}:
        _record(delivery, Delivery.Status.FAILED, f"ESP refused the recipient: {status.status}")
        return SendOutcome.FAILED
    with transaction.atomic():  # one commit
        message_id = (status.message_id or "") if status else ""
        _record(delivery, Delivery.Status.SENT, message_id=message_id)
        Digest.objects.filter(pk=digest.pk).update(status=Digest.Status.SENT)
    log.info("sent digest %s", digest.pk)
    return SendOutcome.SENT


def deliveries_stuck(*, now: dt.datetime | None = None) -> QuerySet[Delivery]:
    """Deliveries claimed long ago and never finished: a crash mid-send, for staff to check."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    return Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=cutoff)
