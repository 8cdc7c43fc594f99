"""Everything we hold about one subscriber: exported as plain data, or deleted for good."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from subscribers.models import InterestProfile, Subscriber, TrackingEvent
from subscribers.papers_side import papers_side

__all__ = ["EXPORT_FORMAT", "subscriber_delete", "subscriber_export"]

EXPORT_FORMAT = 1  # bumped when the shape of the export changes


def _when(value: dt.datetime | dt.date | dt.time | None) -> str | None:
    return value.isoformat() if value is not None else None


def _profile(subscriber: Subscriber) -> dict[str, Any] | None:
    profile = InterestProfile.objects.filter(subscriber=subscriber).first()
    if profile is None:
        return None
    return {
        "topics": sorted(profile.topics.values_list("slug", flat=True)),
        "keywords": profile.keywords,
        "exclude_keywords": profile.exclude_keywords,
        "authors": profile.authors,
        "institutions": profile.institutions,
        "categories": profile.categories,
        "interests": profile.interests,
        "seed_papers": profile.seed_papers,
        "include_updates": profile.include_updates,
        "serendipity": profile.serendipity,
        "max_items": profile.max_items,
        "min_relevance": profile.min_relevance,
        "updated_at": _when(profile.updated_at),
    }


def subscriber_export(*, subscriber: Subscriber) -> dict[str, Any]:
    """Every row that names this subscriber, as JSON-ready data (a fixed number of queries)."""
    events = TrackingEvent.objects.filter(recipient__iexact=subscriber.email).order_by(
        "received_at"
    )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _when(timezone.now()),
        "subscriber": {
            "email": subscriber.email,
            "status": subscriber.status,
            "language": subscriber.language,
            "timezone": subscriber.timezone,
            "delivery_time": subscriber.delivery_time.strftime("%H:%M"),
            "frequency": subscriber.frequency,
            "created_at": _when(subscriber.created_at),
            "confirmed_at": _when(subscriber.confirmed_at),
            "unsubscribed_at": _when(subscriber.unsubscribed_at),
            "last_signin_at": _when(subscriber.signin_used_at),
            "feed_enabled": bool(subscriber.feed_key),
        },
        "profile": _profile(subscriber),
        **papers_side().personal_data(subscriber),
        "email_events": [
            {"event": event.event_type, "received_at": _when(event.received_at)} for event in events
        ],
    }


@transaction.atomic
def subscriber_delete(*, subscriber: Subscriber) -> None:
    """Delete the subscriber and everything that names them: profile, digests with their items
    and deliveries, feedback (by cascade), and the ESP events about their address."""
    TrackingEvent.objects.filter(recipient__iexact=subscriber.email).delete()
    subscriber.delete()
