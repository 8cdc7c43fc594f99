"""What happens to a subscriber: plain functions named after the change."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from subscribers.models import Subscriber

__all__ = [
    "subscriber_resubscribe",
    "subscriber_suppress",
    "subscriber_unsubscribe",
]


@transaction.atomic
def subscriber_unsubscribe(*, subscriber: Subscriber) -> bool:
    """Stop every e-mail at once; return False if they were not subscribed."""
    changed = Subscriber.objects.filter(
        pk=subscriber.pk, status__in=[Subscriber.Status.ACTIVE, Subscriber.Status.PENDING]
    ).update(status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now())
    subscriber.refresh_from_db()
    return bool(changed)


@transaction.atomic
def subscriber_resubscribe(*, subscriber: Subscriber) -> bool:
    """Undo an unsubscribe; return False if they were not unsubscribed.

    A suppressed address (bounce or complaint) stays suppressed: only the ESP's word lifts it.
    The link that asks for this was mailed to the address, so it stands as confirmation.
    """
    changed = Subscriber.objects.filter(
        pk=subscriber.pk, status=Subscriber.Status.UNSUBSCRIBED
    ).update(
        status=Subscriber.Status.ACTIVE,
        unsubscribed_at=None,
        confirmed_at=Coalesce("confirmed_at", Value(timezone.now())),
    )
    subscriber.refresh_from_db()
    return bool(changed)


@transaction.atomic
def subscriber_suppress(*, email: str) -> int:
    """Suppress an address the ESP reports as bounced or complaining; return rows changed."""
    return (
        Subscriber.objects.filter(email__iexact=email)
        .exclude(status=Subscriber.Status.SUPPRESSED)
        .update(status=Subscriber.Status.SUPPRESSED)
    )
