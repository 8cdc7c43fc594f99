"""Subscribers in and out as JSON lines, one subscriber with their profile per line.

The format is the operator's contract of DESIGN.md (`import_subscribers` / `export_subscribers`);
`subscriber_to_json` writes exactly what `subscriber_from_json` reads, so export → import
round-trips. An import upserts by case-insensitive e-mail, one transaction per line: a bad line
is reported with its number and reason, and never costs the other lines.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.db.models.functions import Lower
from django.utils import timezone

from newsletter.reports import ImportCounts
from subscribers.models import Frequency, InterestProfile, Subscriber, SubscriberStatus
from subscribers.papers_side import papers_side

__all__ = [
    "ImportReport",
    "LineError",
    "RejectedLine",
    "SubscriberRecord",
    "subscriber_from_json",
    "subscriber_to_json",
    "subscribers_export",
    "subscribers_import",
]

SUBSCRIBER_FIELDS = ("language", "timezone", "delivery_time", "frequency")
LIST_FIELDS = (
    "keywords",
    "exclude_keywords",
    "authors",
    "institutions",
    "categories",
    "seed_papers",
)
KNOWN_FIELDS = frozenset(
    {"email", "topics", "interests", "max_items", "min_relevance", "confirmed", "status"}
    | {"include_updates", "serendipity"}
    | set(SUBSCRIBER_FIELDS)
    | set(LIST_FIELDS)
)

LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$", re.IGNORECASE)
DELIVERY_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
CATEGORY_RE = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
# New style 2606.17199 (4 or 5 digits after the dot), old style hep-th/0601001 or math.AG/0601001.
ARXIV_ID_RE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")


class LineError(ValueError):
    """A line that cannot be imported; `reason` says why, for a human."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RejectedLine(NamedTuple):
    line: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class SubscriberRecord:
    """One validated line: only the fields the line gave (absent fields are left as they are)."""

    email: str
    subscriber: dict[str, Any]
    profile: dict[str, Any]
    topics: tuple[str, ...] | None
    status: str | None
    confirmed: bool | None


@dataclass(kw_only=True)
class ImportReport(ImportCounts):
    errors: list[RejectedLine] = field(default_factory=list)


def _string_list(value: Any, *, name: str, problems: list[str]) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(f"{name} must be a list of strings")
        return None
    if not all(item.strip() for item in value):
        problems.append(f"{name} must not contain empty strings")
        return None
    return list(value)


def _bounded_int(value: Any, *, name: str, low: int, high: int, problems: list[str]) -> None:
    # bool is an int in Python, but `true` is not a number of items.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(f"{name} must be a whole number from {low} to {high}, got {value!r}")


def _email(value: Any, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append("missing e-mail address")
        return ""
    email = value.strip()
    try:
        validate_email(email)
    except ValidationError:
        problems.append(f"bad e-mail address {email!r}")
        return ""
    if len(email) > Subscriber._meta.get_field("email").max_length:
        problems.append(f"e-mail address too long: {email!r}")
    return email


def _subscriber_fields(obj: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "language" in obj:
        language = obj["language"]
        if isinstance(language, str) and len(language) <= 16 and LANGUAGE_RE.match(language):
            fields["language"] = language.lower()
        else:
            problems.append(f"bad language {language!r} (expected a code like zh, en, zh-hans)")
    if "timezone" in obj:
        name = obj["timezone"]
        try:
            if not isinstance(name, str) or len(name) > 64:
                raise ValueError(name)
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(f"bad time zone {name!r} (expected an IANA name like Asia/Shanghai)")
        else:
            fields["timezone"] = name
    if "delivery_time" in obj:
        value = obj["delivery_time"]
        match = DELIVERY_TIME_RE.match(value) if isinstance(value, str) else None
        if match:
            fields["delivery_time"] = dt.time(int(match[1]), int(match[2]))
        else:
            problems.append(f"bad delivery_time {value!r} (expected HH:MM)")
    if "frequency" in obj:
        if obj["frequency"] in Frequency.values:
            fields["frequency"] = obj["frequency"]
        else:
            problems.append(f"bad frequency {obj['frequency']!r} (expected daily or weekly)")
    return fields


def _profile_fields(obj: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in LIST_FIELDS:
        if name in obj:
            items = _string_list(obj[name], name=name, problems=problems)
            if items is not None:
                fields[name] = items
    bad_categories = [c for c in fields.get("categories", []) if not CATEGORY_RE.match(c)]
    if bad_categories:
        problems.append(f"bad arXiv categories: {', '.join(bad_categories)}")
    bad_ids = [p for p in fields.get("seed_papers", []) if not ARXIV_ID_RE.match(p)]
    if bad_ids:
        problems.append(f"seed_papers are not arXiv ids: {', '.join(bad_ids)}")
    if "interests" in obj:
        if isinstance(obj["interests"], str):
            fields["interests"] = obj["interests"]
        else:
            problems.append("interests must be a string")
    for name, low, high in (("max_items", 1, 200), ("min_relevance", 0, 100)):
        if name in obj:
            _bounded_int(obj[name], name=name, low=low, high=high, problems=problems)
            fields[name] = obj[name]
    for name in ("include_updates", "serendipity"):
        if name in obj:
            if isinstance(obj[name], bool):
                fields[name] = obj[name]
            else:
                problems.append(f"{name} must be true or false")
    return fields


def subscriber_from_json(
    obj: Any, *, known_topics: Collection[str] | None = None
) -> SubscriberRecord:
    """Validate one decoded line; raise LineError naming every problem found.

    `known_topics` is the set of topic slugs (read from the database when not given).
    """
    if not isinstance(obj, dict):
        raise LineError("not a JSON object")
    problems: list[str] = []
    unknown = sorted(set(obj) - KNOWN_FIELDS)
    if unknown:
        problems.append(f"unknown fields: {', '.join(unknown)}")
    email = _email(obj.get("email"), problems)
    subscriber = _subscriber_fields(obj, problems)
    profile = _profile_fields(obj, problems)

    topics: tuple[str, ...] | None = None
    if "topics" in obj:
        slugs = _string_list(obj["topics"], name="topics", problems=problems)
        if slugs is not None:
            if known_topics is None:
                known_topics = set(
                    papers_side()
                    .topic_model._default_manager.filter(slug__in=slugs)
                    .values_list("slug", flat=True)
                )
            missing = [slug for slug in dict.fromkeys(slugs) if slug not in known_topics]
            if missing:
                problems.append(f"unknown topics: {', '.join(missing)}")
            topics = tuple(dict.fromkeys(slugs))

    status = obj.get("status")
    if status is not None and status not in SubscriberStatus.values:
        problems.append(f"bad status {status!r} (expected {', '.join(SubscriberStatus.values)})")
    confirmed = obj.get("confirmed")
    if confirmed is not None and not isinstance(confirmed, bool):
        problems.append("confirmed must be true or false")

    if problems:
        raise LineError("; ".join(problems))
    return SubscriberRecord(
        email=email,
        subscriber=subscriber,
        profile=profile,
        topics=topics,
        status=status,
        confirmed=confirmed,
    )


def _apply_status(subscriber: Subscriber, record: SubscriberRecord, *, now: dt.datetime) -> None:
    """Set status and its timestamps: "status" wins; "confirmed" alone moves pending ↔ active.

    "confirmed" alone never revives an unsubscribed or suppressed address: an old list imported
    again must not undo an unsubscription or a bounce. Only an explicit "status" does that.
    """
    Status = SubscriberStatus
    status, confirmed = record.status, record.confirmed
    if status is None:
        if confirmed is None or subscriber.status in (Status.UNSUBSCRIBED, Status.SUPPRESSED):
            return
        status = Status.ACTIVE if confirmed else Status.PENDING
    subscriber.status = status
    if status == Status.ACTIVE or confirmed:
        subscriber.confirmed_at = subscriber.confirmed_at or now
    elif confirmed is False:
        subscriber.confirmed_at = None
    if status == Status.UNSUBSCRIBED:
        subscriber.unsubscribed_at = subscriber.unsubscribed_at or now
    elif status in (Status.PENDING, Status.ACTIVE):
        subscriber.unsubscribed_at = None


def _upsert(record: SubscriberRecord, *, topics_by_slug: dict[str, Model]) -> bool:
    """Write one record; return True when it created the subscriber."""
    # Filtering on Lower("email") lets the database use the unique index on lower(email).
    subscriber = (
        Subscriber.objects.select_for_update()
        .alias(email_lower=Lower("email"))
        .filter(email_lower=record.email.lower())
        .first()
    )
    created = subscriber is None
    if subscriber is None:
        subscriber = Subscriber(email=record.email)
    for name, value in record.subscriber.items():
        setattr(subscriber, name, value)
    _apply_status(subscriber, record, now=timezone.now())
    subscriber.save()

    if created:
        profile = InterestProfile.objects.create(subscriber=subscriber, **record.profile)
    else:
        profile, _ = InterestProfile.objects.get_or_create(subscriber=subscriber)
        if record.profile:
            for name, value in record.profile.items():
                setattr(profile, name, value)
            profile.save()
    if record.topics is not None:
        profile.topics.set([topics_by_slug[slug] for slug in record.topics])
    return created


def _decode(raw: str | bytes, *, number: int) -> str:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LineError(f"not valid UTF-8 (byte {exc.start + 1})") from None
    # A file saved by some editors starts with a byte-order mark, which JSON does not allow.
    return raw.removeprefix("\ufeff") if number == 1 else raw


def subscribers_import(
    *, lines: Iterable[str | bytes], progress: Callable[[int], object] | None = None
) -> ImportReport:
    """Upsert one subscriber per JSON line; `progress(1)` is called after each line."""
    report = ImportReport()
    topics_by_slug = {
        topic.slug: topic for topic in papers_side().topic_model._default_manager.all()
    }
    for number, raw in enumerate(lines, start=1):
        try:
            line = _decode(raw, number=number)
            if line.strip():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise LineError(f"invalid JSON: {exc.msg} (column {exc.pos + 1})") from None
                record = subscriber_from_json(obj, known_topics=topics_by_slug.keys())
                try:
                    with transaction.atomic():
                        created = _upsert(record, topics_by_slug=topics_by_slug)
                except IntegrityError as exc:
                    # A concurrent writer (sign-up, another import) won a race for this row.
                    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    raise LineError(f"database refused the line: {first_line}") from None
                if created:
                    report.created += 1
                else:
                    report.updated += 1
        except LineError as exc:
            report.errors.append(RejectedLine(number, exc.reason))
        if progress is not None:
            progress(1)
    return report


def subscriber_to_json(subscriber: Subscriber) -> dict[str, Any]:
    """The subscriber as one line of the export, in the order DESIGN.md lists the fields."""
    try:
        profile = subscriber.profile
    except InterestProfile.DoesNotExist:
        profile = InterestProfile(subscriber=subscriber)
    topics = [topic.slug for topic in profile.topics.all()] if profile.pk else []
    return {
        "email": subscriber.email,
        "language": subscriber.language,
        "timezone": subscriber.timezone,
        "delivery_time": subscriber.delivery_time.strftime("%H:%M"),
        "frequency": subscriber.frequency,
        "topics": topics,
        "keywords": list(profile.keywords),
        "exclude_keywords": list(profile.exclude_keywords),
        "authors": list(profile.authors),
        "institutions": list(profile.institutions),
        "categories": list(profile.categories),
        "interests": profile.interests,
        "seed_papers": list(profile.seed_papers),
        "max_items": profile.max_items,
        "min_relevance": profile.min_relevance,
        "include_updates": profile.include_updates,
        "serendipity": profile.serendipity,
        "confirmed": subscriber.confirmed_at is not None
        or subscriber.status == SubscriberStatus.ACTIVE,
        "status": subscriber.status,
    }


def subscribers_export() -> Iterator[dict[str, Any]]:
    """Every subscriber, ordered by e-mail, in a constant number of queries per chunk."""
    subscribers = (
        Subscriber.objects.order_by("email")
        .select_related("profile")
        .prefetch_related("profile__topics")
    )
    for subscriber in subscribers.iterator(chunk_size=500):
        yield subscriber_to_json(subscriber)
