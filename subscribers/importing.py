"""Subscribers in and out as JSON lines, one subscriber with their profile per line.

The format is the operator's contract of DESIGN.md (`import_subscribers` / `export_subscribers`);
`subscriber_to_json` writes exactly what `subscriber_from_json` reads, so export → import
round-trips. The fields are `profile_fields.SETTINGS`, checked by the profile editor's rules
defined there, so a file cannot store what the editor refuses. An import upserts by
case-insensitive e-mail, one transaction per line: a bad line is reported with its number and
reason, and never costs the other lines.
"""

from __future__ import annotations

import datetime as dt
import json
import re
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
from subscribers.addresses import email_normalise
from subscribers.models import InterestProfile, Subscriber, SubscriberStatus
from subscribers.papers_side import papers_side
from subscribers.profile_fields import (
    ARXIV_ID_RE,
    FREQUENCIES,
    INTERESTS_MAX_LENGTH,
    LANGUAGES,
    LIST_ITEM_MAX,
    LIST_MAX,
    PREPRINT_DOI_RE,
    SETTINGS,
    Kind,
    Setting,
    Stored,
    categories_unknown,
    language_known,
    list_too_long,
    list_too_many,
    setting_json,
    time_zone_known,
)

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

# Besides the settings, a line names its subscriber and may set their status.
KNOWN_FIELDS = frozenset({"email", "confirmed", "status", *(s.name for s in SETTINGS)})

DELIVERY_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


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
    email = email_normalise(email)  # one row per mailbox, as the sign-up form writes it
    if len(email) > (Subscriber._meta.get_field("email").max_length or 0):
        problems.append(f"e-mail address too long: {email!r}")
    return email


def _seed_id(entry: str) -> bool:
    """An arXiv id, or a bioRxiv/medRxiv DOI (any case, with or without its version)."""
    doi = re.sub(r"v\d+$", "", entry.lower())
    return bool(ARXIV_ID_RE.match(entry) or PREPRINT_DOI_RE.match(doi))


def _list_problems(name: str, entries: list[str]) -> list[str]:
    """The profile editor's rules for a list, worded for the operator."""
    problems = []
    if list_too_many(entries):
        problems.append(f"{name} has {len(entries)} entries (at most {LIST_MAX})")
    if too_long := list_too_long(entries):
        problems.append(
            f"{name} entries must be at most {LIST_ITEM_MAX} characters: "
            + ", ".join(repr(entry[:40] + "…") for entry in too_long)
        )
    if name == "categories" and (unknown := categories_unknown(entries)):
        problems.append(f"unknown arXiv categories: {', '.join(unknown)}")
    if name == "seed_papers" and (bad := [p for p in entries if not _seed_id(p)]):
        problems.append(
            f"seed_papers are neither arXiv ids nor bioRxiv/medRxiv DOIs: {', '.join(bad)}"
        )
    return problems


def _text(name: str, value: Any) -> tuple[Any, str | None]:
    """A text setting checked by the editor's rules: (value to store, problem or None)."""
    if name == "language":
        code = value.lower() if isinstance(value, str) else value
        if isinstance(code, str) and language_known(code):
            return code, None
        expected = " or ".join(code for code, _name in LANGUAGES)
        return None, f"bad language {value!r} (expected {expected})"
    if name == "timezone":
        if isinstance(value, str) and time_zone_known(value):
            return value, None
        return None, f"bad time zone {value!r} (expected an IANA name like Asia/Shanghai)"
    if name == "frequency":
        if value in FREQUENCIES:
            return value, None
        return None, f"bad frequency {value!r} (expected {' or '.join(FREQUENCIES)})"
    if not isinstance(value, str):
        return None, f"{name} must be a string"
    if name == "interests" and len(value) > INTERESTS_MAX_LENGTH:
        most = INTERESTS_MAX_LENGTH
        return None, f"interests must be at most {most} characters, got {len(value)}"
    return value, None


def _setting(setting: Setting, value: Any, problems: list[str]) -> tuple[bool, Any]:
    """Check one setting of a line as the profile editor would: (valid, value to store)."""
    name, before = setting.name, len(problems)
    if setting.kind is Kind.LIST:
        entries = _string_list(value, name=name, problems=problems)
        if entries is None:
            return False, None
        problems.extend(_list_problems(name, entries))
        value = entries
    elif setting.kind is Kind.TEXT:
        value, problem = _text(name, value)
        if problem:
            problems.append(problem)
    elif setting.kind is Kind.NUMBER:
        low, high = setting.bounds or (0, 0)
        # bool is an int in Python, but `true` is not a number of items.
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    elif setting.kind is Kind.SWITCH:
        if not isinstance(value, bool):
            problems.append(f"{name} must be true or false")
    elif setting.kind is Kind.TIME:
        match = DELIVERY_TIME_RE.match(value) if isinstance(value, str) else None
        if match:
            value = dt.time(int(match[1]), int(match[2]))
        else:
            problems.append(f"bad {name} {value!r} (expected HH:MM)")
    return len(problems) == before, value


def _topics(
    value: Any, *, known_topics: Collection[str] | None, problems: list[str]
) -> tuple[str, ...] | None:
    slugs = _string_list(value, name="topics", problems=problems)
    if slugs is None:
        return None
    if known_topics is None:
        known_topics = set(
            papers_side()
            .topic_model._default_manager.filter(slug__in=slugs)
            .values_list("slug", flat=True)
        )
    missing = [slug for slug in dict.fromkeys(slugs) if slug not in known_topics]
    if missing:
        problems.append(f"unknown topics: {', '.join(missing)}")
    return tuple(dict.fromkeys(slugs))


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
    fields: dict[Stored, dict[str, Any]] = {Stored.SUBSCRIBER: {}, Stored.PROFILE: {}}
    topics: tuple[str, ...] | None = None
    for setting in SETTINGS:
        if setting.name not in obj:
            continue
        if setting.kind is Kind.TOPICS:
            topics = _topics(obj[setting.name], known_topics=known_topics, problems=problems)
            continue
        valid, value = _setting(setting, obj[setting.name], problems)
        if valid:
            fields[setting.stored][setting.name] = value

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
        subscriber=fields[Stored.SUBSCRIBER],
        profile=fields[Stored.PROFILE],
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
    found: Subscriber | None = (
        Subscriber.objects.select_for_update()
        .alias(email_lower=Lower("email"))
        .filter(email_lower=record.email.lower())
        .first()
    )
    created = found is None
    subscriber = found if found is not None else Subscriber(email=record.email)
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
        profile.topics.set([topics_by_slug[slug] for slug in record.topics])  # type: ignore[misc]
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
        topic.slug: topic  # type: ignore[attr-defined]  # a Topic, through papers_side
        for topic in papers_side().topic_model._default_manager.all()
    }
    seeds: list[str] = []
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
                seeds.extend(record.profile.get("seed_papers", []))
                if created:
                    report.created += 1
                else:
                    report.updated += 1
        except LineError as exc:
            report.errors.append(RejectedLine(number, exc.reason))
        if progress is not None:
            progress(1)
    if seeds:
        papers_side().seeds_lookup(seeds)  # the seed papers we lack, fetched from arXiv by a task
    return report


def subscriber_to_json(subscriber: Subscriber) -> dict[str, Any]:
    """The subscriber as one line of the export, in the order DESIGN.md lists the fields."""
    try:
        profile = subscriber.profile
    except InterestProfile.DoesNotExist:
        profile = InterestProfile(subscriber=subscriber)
    topics = [topic.slug for topic in profile.topics.all()] if profile.pk else []
    line: dict[str, Any] = {"email": subscriber.email}
    for setting in SETTINGS:
        if setting.kind is Kind.TOPICS:
            line[setting.name] = topics
        else:
            owner = subscriber if setting.stored is Stored.SUBSCRIBER else profile
            line[setting.name] = setting_json(setting, getattr(owner, setting.name))
    line["confirmed"] = (
        subscriber.confirmed_at is not None or subscriber.status == SubscriberStatus.ACTIVE
    )
    line["status"] = subscriber.status
    return line


def subscribers_export() -> Iterator[dict[str, Any]]:
    """Every subscriber, ordered by e-mail, in a constant number of queries per chunk."""
    subscribers = (
        Subscriber.objects.order_by("email")
        .select_related("profile")
        .prefetch_related("profile__topics")
    )
    for subscriber in subscribers.iterator(chunk_size=500):
        yield subscriber_to_json(subscriber)
