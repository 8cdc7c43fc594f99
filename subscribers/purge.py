"""Sign-ups never confirmed are deleted after UNCONFIRMED_PURGE_DAYS: someone typed an address
that is not theirs, or never came back; we keep no data about people who did not say yes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from subscribers.models import HeldSignup, Subscriber
from subscribers.tokens import CONFIRM_LINK_AGE

__all__ = ["PurgeReport", "unconfirmed_purge"]


@dataclass(frozen=True)
class PurgeReport:
    subscribers: int  # pending, never confirmed, older than the setting
    held: int  # held sign-ups whose confirmation link has expired
    days: int

    def summary(self) -> str:
        return (
            f"purged {self.subscribers} unconfirmed sign-ups older than {self.days} days "
            f"and {self.held} expired held sign-ups"
        )


@transaction.atomic
def unconfirmed_purge(*, days: int | None = None, now: dt.datetime | None = None) -> PurgeReport:
    """Delete pending subscribers never confirmed, created more than `days` ago (default
    UNCONFIRMED_PURGE_DAYS), with their profile; and held sign-ups whose link can no longer be
    used. Safe to run twice: the second run finds nothing."""
    days = settings.UNCONFIRMED_PURGE_DAYS if days is None else days
    now = now or timezone.now()
    stale = Subscriber.objects.filter(
        status=Subscriber.Status.PENDING,
        confirmed_at__isnull=True,
        created_at__lt=now - dt.timedelta(days=days),
    )
    held_stale = HeldSignup.objects.filter(
        created_at__lt=now - dt.timedelta(seconds=CONFIRM_LINK_AGE)
    ).exclude(subscriber__in=stale)
    held = held_stale.delete()[1].get(HeldSignup._meta.label, 0)
    purged = stale.delete()[1].get(Subscriber._meta.label, 0)
    return PurgeReport(subscribers=purged, held=held, days=days)
