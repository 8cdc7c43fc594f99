"""Everything we hold about one subscriber: exported as plain data, or deleted for good."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from subscribers.models import (
    HeldSignup,
    InterestProfile,
    LibraryEntry,
    Subscriber,
    TrackingEvent,
    ZoteroLink,
)
from subscribers.papers_side import papers_side
from subscribers.profile_fields import SETTINGS, Kind, Stored, setting_json

__all__ = ["EXPORT_FORMAT", "subscriber_delete", "subscriber_export"]

EXPORT_FORMAT = 1  # bumped when the shape of the export changes


def _when(value: dt.datetime | dt.date | dt.time | None) -> str | None:
    return value.isoformat() if value is not None else None


def _profile(subscriber: Subscriber) -> dict[str, Any] | None:
    profile = InterestProfile.objects.filter(subscriber=subscriber).first()
    if profile is None:
        return None
    data: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.kind is Kind.TOPICS:
            data[setting.name] = sorted(profile.topics.values_list("slug", flat=True))
        elif setting.stored is Stored.PROFILE:
            data[setting.name] = setting_json(setting, getattr(profile, setting.name))
    data["dropped_categories"] = list(profile.dropped_categories)  # "I don't read it"
    data["updated_at"] = _when(profile.updated_at)
    return data


def _settings(subscriber: Subscriber) -> dict[str, Any]:
    return {
        setting.name: setting_json(setting, getattr(subscriber, setting.name))
        for setting in SETTINGS
        if setting.stored is Stored.SUBSCRIBER
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
            **_settings(subscriber),
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
        # Sign-ups for this address waiting for their confirmation link (see signup.py).
        "held_sign_ups": _held_sign_ups(subscriber),
        "library": _library(subscriber),
        "zotero": _zotero(subscriber),
    }


def _library(subscriber: Subscriber) -> list[dict[str, Any]]:
    """Every entry of their library, dropped ones too (kept so a re-import does not revive them)."""
    entries = LibraryEntry.objects.filter(subscriber=subscriber).order_by("added_at", "pk")
    return [
        {
            "key": entry.key,
            "source": entry.source,
            "state": entry.state,
            "arxiv_id": entry.arxiv_id,
            "doi": entry.doi,
            "title": entry.title,
            "abstract": entry.abstract,
            "added_at": _when(entry.added_at),
            "dropped": entry.dropped,
            "zotero_item_key": entry.zotero_key,  # the item's id in their Zotero, not a secret
        }
        for entry in entries
    ]


def _zotero(subscriber: Subscriber) -> dict[str, Any]:
    """Whether a Zotero library is connected, and how; its API key is not even read."""
    link = ZoteroLink.objects.filter(subscriber=subscriber).defer("api_key_encrypted").first()
    if link is None:
        return {"connected": False}
    return {
        "connected": True,
        "user_id": link.user_id,
        "collections_include": list(link.collections_include),
        "collections_ignore": list(link.collections_ignore),
        "last_read_at": _when(link.synced_at),
        "last_error": link.error,
    }


def _held_sign_ups(subscriber: Subscriber) -> list[dict[str, Any]]:
    """Held sign-ups with the topics they chose by slug (one query more only if they chose)."""
    held = list(HeldSignup.objects.filter(subscriber=subscriber).order_by("created_at", "pk"))
    ids = {topic_id for row in held for topic_id in row.topic_ids}
    slugs = (
        dict(
            papers_side().topic_model._default_manager.filter(pk__in=ids).values_list("pk", "slug")
        )
        if ids
        else {}
    )
    return [
        {
            "received_at": _when(row.created_at),
            "settings": row.subscriber_fields,
            "profile": row.profile_fields,
            "topics": sorted(slugs[i] for i in row.topic_ids if i in slugs),
        }
        for row in held
    ]


@transaction.atomic
def subscriber_delete(*, subscriber: Subscriber) -> None:
    """Delete the subscriber and everything that names them: profile, digests with their items,
    updated papers and deliveries, feedback of every signal, saved papers, held sign-ups, their
    library and Zotero link (its encrypted key with it) and the tracking decisions about them
    (by cascade), and the ESP events about their address."""
    TrackingEvent.objects.filter(recipient__iexact=subscriber.email).delete()
    subscriber.delete()
