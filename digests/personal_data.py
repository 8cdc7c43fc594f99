"""A reader's rows on the papers' side, for their data export (`subscribers.mydata`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch

from digests.models import (
    Delivery,
    Digest,
    DigestItem,
    DigestUpdate,
    Feedback,
    SavedPaper,
    TrackingDecision,
)
from subscribers.models import Subscriber

__all__ = ["personal_data"]


def _when(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _item(item: DigestItem) -> dict[str, Any]:
    return {
        "rank": item.rank,
        "arxiv_id": item.paper.versioned_id,
        "title": item.paper.title,
        "relevance": item.relevance,
        "reason": item.reason,
        "topic": item.topic.slug if item.topic else None,
    }


def _update(update: DigestUpdate) -> dict[str, Any]:
    """A new version of a paper the reader got before, as their digest told them."""
    return {
        "arxiv_id": update.paper.arxiv_id,
        "title": update.paper.title,
        "version": update.version,
        "previous_version": update.previous_version,
        "previous_date": _when(update.previous_date),
    }


def _decision(row: TrackingDecision) -> dict[str, Any]:
    """A bounce, complaint or ESP unsubscribe about one of their digests, and what it did."""
    digest = row.delivery.digest if row.delivery else None
    return {
        "received_at": _when(row.received_at),
        "occurred_at": _when(row.occurred_at),
        "esp": row.esp,
        "event_type": row.event_type,
        "esp_event_type": row.esp_event_type,
        "message_id": row.message_id,
        "digest_issue_date": _when(digest.issue_date) if digest else None,
        "meaning": row.meaning,
        "decision": row.decision,
        "reason": row.reason,
        "esp_reason": row.esp_reason,
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
        .prefetch_related(
            "items__paper",
            "items__topic",
            Prefetch("updates", DigestUpdate.objects.select_related("paper").order_by("pk")),
        )
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
                "updates": [_update(update) for update in digest.updates.all()],
                "delivery": _delivery(delivery) if delivery else None,
            }
        )
    return exported


def _rank(item: DigestItem) -> int:
    return item.rank


def personal_data(subscriber: Subscriber) -> dict[str, Any]:
    """The subscriber's digests (items, updated papers and delivery), feedback of every signal
    (more, less, and the clicks the ESP reported), saved papers and the ESP's bounces,
    complaints and unsubscribes about them with what each did, in a fixed number of queries."""
    feedback = (
        Feedback.objects.filter(subscriber=subscriber)
        .select_related("paper")
        .order_by("created_at")
    )
    return {
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
        "saved": [
            {
                "arxiv_id": row.paper.versioned_id,
                "title": row.paper.title,
                "saved_at": _when(row.saved_at),
            }
            for row in SavedPaper.objects.filter(subscriber=subscriber)
            .select_related("paper")
            .order_by("saved_at")
        ],
        "tracking_decisions": [
            _decision(row)
            for row in TrackingDecision.objects.filter(subscriber=subscriber)
            .select_related("delivery__digest")
            .order_by("received_at", "pk")
        ],
    }
