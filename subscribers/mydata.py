"""Everything we hold about one subscriber: exported as plain data, or deleted for good."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from digests.models import Delivery, Digest, DigestItem, Feedback
from subscribers.models import InterestProfile, Subscriber, TrackingEvent

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


def _item(item: DigestItem) -> dict[str, Any]:
    return {
        "rank": item.rank,
        "arxiv_id": item.paper.versioned_id,
        "title": item.paper.title,
        "relevance": item.relevance,
        "reason": item.reason,
        "topic": item.topic.slug if item.topic else None,
    }


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "status": delivery.status,
        "esp_message_id": delivery.esp_message_id,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "created_at": _when(delivery.created_at),
        "sent_at": _when(delivery.sent_at),
        "opened_at": _when(delivery.opened_at),
        "clicked_at": _when(delivery.clicked_at),
    }


def _digests(subscriber: Subscriber) -> list[dict[str, Any]]:
    digests = (
        Digest.objects.filter(subscriber=subscriber)
        .select_related("delivery")
        .prefetch_related("items__paper", "items__topic")
        .order_by("issue_date")
    )
    exported = []
    for digest in digests:
        delivery = getattr(digest, "delivery", None)
        exported.append(
            {
                "issue_date": _when(digest.issue_date),
                "status": digest.status,
                "brief": digest.brief,
                "note": digest.note,
                "created_at": _when(digest.created_at),
                "items": [_item(item) for item in sorted(digest.items.all(), key=_rank)],
                "delivery": _delivery(delivery) if delivery else None,
            }
        )
    return exported


def _rank(item: DigestItem) -> int:
    return item.rank


def subscriber_export(*, subscriber: Subscriber) -> dict[str, Any]:
    """Every row that names this subscriber, as JSON-ready data (a fixed number of queries)."""
    feedback = (
        Feedback.objects.filter(subscriber=subscriber)
        .select_related("paper")
        .order_by("created_at")
    )
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
        "digests": _digests(subscriber),
        "feedback": [
            {
                "arxiv_id": row.paper.versioned_id,
                "title": row.paper.title,
                "signal": row.signal,
                "created_at": _when(row.created_at),
            }
            for row in feedback
        ],
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
