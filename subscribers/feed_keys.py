"""The secret address of a subscriber's private Atom feed (the feed itself is `pages.feed`).

The address holds a random key; replacing the key revokes every copy of the old address.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.urls import reverse

from subscribers.models import Subscriber

__all__ = ["feed_key_remove", "feed_key_rotate", "feed_subscriber", "feed_url"]

FEED_STATUSES = (Subscriber.Status.ACTIVE, Subscriber.Status.PENDING)


def feed_key_rotate(*, subscriber: Subscriber) -> str:
    """Give the subscriber a new feed address; the old one stops answering at once."""
    subscriber.feed_key = secrets.token_urlsafe(32)
    subscriber.save(update_fields=["feed_key"])
    return subscriber.feed_key


def feed_key_remove(*, subscriber: Subscriber) -> None:
    """Turn the feed off: no address answers any more."""
    subscriber.feed_key = None
    subscriber.save(update_fields=["feed_key"])


def feed_subscriber(*, key: str) -> Subscriber | None:
    """The subscriber whose feed this key opens, or None (unknown, revoked, unsubscribed)."""
    if not key:
        return None
    return Subscriber.objects.filter(feed_key=key, status__in=FEED_STATUSES).first()


def feed_url(subscriber: Subscriber) -> str:
    """The feed's absolute address, or "" while the subscriber has none."""
    if not subscriber.feed_key:
        return ""
    return settings.SITE_URL + reverse("public:feed", args=[subscriber.feed_key])
