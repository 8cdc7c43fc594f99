"""A reader's settings, written once: which fields there are, where each is kept, their rules.

`SETTINGS` lists every field a reader sets, in the order of the import/export format of
DESIGN.md. The profile editor and sign-up (`forms`), the import and export (`importing`), the
reader's data export (`mydata`) and the staff's admin take their field lists from it, and the
editor and the import check values with the predicates below, so that a file cannot store what
the editor refuses. Each side words its own errors: the editor's are translated for the reader,
the import's name the line's field for the operator.
"""

from __future__ import annotations

import enum
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from subscribers.models import MAX_ITEMS_BOUNDS, MIN_RELEVANCE_BOUNDS, Frequency
from subscribers.papers_side import papers_side

__all__ = [
    "ARXIV_ID_RE",
    "FREQUENCIES",
    "INTERESTS_MAX_LENGTH",
    "LANGUAGES",
    "LIST_ITEM_MAX",
    "LIST_MAX",
    "MAX_ITEMS_BOUNDS",
    "MIN_RELEVANCE_BOUNDS",
    "PREPRINT_DOI_RE",
    "PROFILE_FIELDS",
    "PROFILE_LISTS",
    "SETTINGS",
    "SUBSCRIBER_FIELDS",
    "Group",
    "Kind",
    "Setting",
    "Stored",
    "categories_unknown",
    "group_fields",
    "language_known",
    "list_too_long",
    "list_too_many",
    "setting_json",
    "time_zone_choices",
    "time_zone_known",
]


class Stored(enum.StrEnum):
    SUBSCRIBER = "subscriber"  # a column of Subscriber
    PROFILE = "profile"  # a column (or, for topics, the many-to-many) of InterestProfile


class Kind(enum.StrEnum):
    TEXT = "text"
    LIST = "list"  # a JSON list of strings
    NUMBER = "number"  # a whole number within the setting's bounds
    SWITCH = "switch"
    TIME = "time"  # a time of day, "HH:MM" in JSON
    TOPICS = "topics"  # topics of the catalogue, by slug in JSON


class Group(enum.StrEnum):
    """Settings shown together (the admin's fieldsets)."""

    DELIVERY = "delivery"
    SUBJECTS = "subjects"
    SOURCES = "sources"
    DIGEST = "digest"


@dataclass(frozen=True)
class Setting:
    name: str
    stored: Stored
    kind: Kind
    group: Group
    bounds: tuple[int, int] | None = None  # for numbers: lowest and highest allowed


SETTINGS: tuple[Setting, ...] = (
    Setting("language", Stored.SUBSCRIBER, Kind.TEXT, Group.DELIVERY),
    Setting("timezone", Stored.SUBSCRIBER, Kind.TEXT, Group.DELIVERY),
    Setting("delivery_time", Stored.SUBSCRIBER, Kind.TIME, Group.DELIVERY),
    Setting("frequency", Stored.SUBSCRIBER, Kind.TEXT, Group.DELIVERY),
    Setting("topics", Stored.PROFILE, Kind.TOPICS, Group.SUBJECTS),
    Setting("keywords", Stored.PROFILE, Kind.LIST, Group.SUBJECTS),
    Setting("exclude_keywords", Stored.PROFILE, Kind.LIST, Group.SUBJECTS),
    Setting("authors", Stored.PROFILE, Kind.LIST, Group.SOURCES),
    Setting("institutions", Stored.PROFILE, Kind.LIST, Group.SOURCES),
    Setting("categories", Stored.PROFILE, Kind.LIST, Group.SOURCES),
    Setting("interests", Stored.PROFILE, Kind.TEXT, Group.SUBJECTS),
    Setting("seed_papers", Stored.PROFILE, Kind.LIST, Group.SOURCES),
    Setting("max_items", Stored.PROFILE, Kind.NUMBER, Group.DIGEST, bounds=MAX_ITEMS_BOUNDS),
    Setting(
        "min_relevance", Stored.PROFILE, Kind.NUMBER, Group.DIGEST, bounds=MIN_RELEVANCE_BOUNDS
    ),
    Setting("include_updates", Stored.PROFILE, Kind.SWITCH, Group.DIGEST),
    Setting("serendipity", Stored.PROFILE, Kind.SWITCH, Group.DIGEST),
)

SUBSCRIBER_FIELDS = tuple(s.name for s in SETTINGS if s.stored is Stored.SUBSCRIBER)
# The profile's own columns; its topics, a many-to-many, are set apart.
PROFILE_FIELDS = tuple(
    s.name for s in SETTINGS if s.stored is Stored.PROFILE and s.kind is not Kind.TOPICS
)
PROFILE_LISTS = tuple(s.name for s in SETTINGS if s.kind is Kind.LIST)


def group_fields(group: Group, *, stored: Stored | None = None) -> tuple[str, ...]:
    """The names of a group's settings, in `SETTINGS` order."""
    return tuple(
        s.name for s in SETTINGS if s.group is group and (stored is None or s.stored is stored)
    )


def setting_json(setting: Setting, value: Any) -> Any:
    """A stored value as JSON data (topics excepted: their slugs are the caller's to read)."""
    if setting.kind is Kind.TIME:
        return value.strftime("%H:%M")
    if setting.kind is Kind.LIST:
        return list(value)
    return value


# The rules. Lists: typed one per line in the editor, JSON lists in a file.
LANGUAGES = [("en", "English"), ("zh", "中文")]
FREQUENCIES: tuple[str, ...] = tuple(Frequency.values)
LIST_ITEM_MAX = 200  # characters in one keyword, author, …
LIST_MAX = 100  # entries in one list
INTERESTS_MAX_LENGTH = 4000
# New style 2606.17199 (4 or 5 digits after the dot), old style hep-th/0601001 or math.AG/0601001.
ARXIV_ID_RE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")
# A bioRxiv or medRxiv DOI, lower case, without version: 10.1101/2024.01.02.573921 (and the
# servers' newer prefix, 10.64898/2026.01.02.26343330); a seed paper may be one.
PREPRINT_DOI_RE = re.compile(r"^10\.(?:1101|64898)/[0-9a-z.\-]{1,100}$")


def language_known(code: str) -> bool:
    return code in dict(LANGUAGES)


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


def time_zone_known(name: str) -> bool:
    """An IANA name this machine knows and can load."""
    if name not in dict(time_zone_choices()):
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def list_too_many(entries: list[str]) -> bool:
    return len(entries) > LIST_MAX


def list_too_long(entries: Iterable[str]) -> list[str]:
    """The entries longer than LIST_ITEM_MAX characters."""
    return [entry for entry in entries if len(entry) > LIST_ITEM_MAX]


def categories_unknown(codes: Iterable[str]) -> list[str]:
    """The codes naming no category the papers' side knows (e.g. cs.FOO)."""
    return [code for code in codes if not papers_side().category_known(code)]
