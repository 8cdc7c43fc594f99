"""Step 6: send a digest once.

The Delivery row is claimed (queued → sending) with a conditional update before the ESP is
called, and marked sent with the ESP's message id after, so a digest goes out at most once
whatever retries or parallel workers do.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.utils import timezone

from digests.models import Delivery, Digest
from digests.render import digest_render

__all__ = ["delivery_send"]

log = logging.getLogger(__name__)


def _claim(digest: Digest) -> Delivery | None:
    """Take the digest's delivery for this worker; None if someone else has it or it is done."""
    delivery, _ = Delivery.objects.get_or_create(digest=digest)
    claimed = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED).update(
        status=Delivery.Status.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    delivery.refresh_from_db()
    return delivery


def _message(digest: Digest) -> EmailMultiAlternatives:
    rendered = digest_render(digest)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.subscriber.email],
    )
    message.attach_alternative(rendered.html, "text/html")
    # Anymail reads these; the file backend ignores them.
    message.tags = ["digest"]
    message.metadata = {"digest_id": str(digest.pk)}
    return message


def delivery_send(*, digest: Digest) -> Delivery | None:
    """Send `digest` unless it was already claimed or sent; return the delivery if we sent it."""
    if digest.status != Digest.Status.ASSEMBLED or not digest.subscriber.is_active:
        return None
    delivery = _claim(digest)
    if delivery is None:
        return None
    message = _message(digest)
    message.send()
    status = getattr(message, "anymail_status", None)
    delivery.esp_message_id = (status.message_id or "") if status else ""
    delivery.status = Delivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.save(update_fields=["esp_message_id", "status", "sent_at", "updated_at"])
    Digest.objects.filter(pk=digest.pk).update(status=Digest.Status.SENT)
    log.info("sent digest %s (%s items)", digest.pk, digest.items.count())
    return delivery
