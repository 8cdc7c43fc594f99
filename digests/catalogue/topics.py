"""The topic catalogue in and out as JSON: a list of topics, parents before children.

`topics_import` validates the whole list before writing anything, then upserts every valid entry
by slug (its position in the catalogue is its place in the list); an invalid entry is reported
with its 1-based index and slug and costs nothing else. `topics_export` writes the same format,
so export → import round-trips. Topics missing from the file are left alone: subscribers follow
them and digests point at them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction

from digests.models import Topic
from newsletter.reports import ImportCounts

__all__ = [
    "CatalogueError",
    "RejectedTopic",
    "TopicImportReport",
    "topics_export",
    "topics_import",
]

CATEGORY_RE = re.compile(r"^(?:[a-z-]+(\.[A-Za-z-]+)?|(?:bio|med)rxiv:[a-z_]+)$")  # or a subject
SLUG_MAX_LENGTH = 50
REQUIRED_KEYS = frozenset({"slug", "names"})
OPTIONAL_KEYS = frozenset({"descriptions", "categories", "parent", "featured", "keywords"})


class CatalogueError(ValueError):
    """The catalogue as a whole is unusable (not a list of entries)."""


class RejectedTopic(NamedTuple):
    index: int  # type: ignore[assignment]  # the entry's position, shadowing tuple.index
    slug: str | None
    reason: str


@dataclass(kw_only=True)
class TopicImportReport(ImportCounts):
    errors: list[RejectedTopic] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class _Entry:
    position: int
    slug: str
    parent: str | None
    fields: dict[str, Any]


def _text_by_language(value: Any, *, name: str, problems: list[str]) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(text, str) and text.strip() for text in value.values()
    ):
        problems.append(f"{name} must be an object of language code → non-empty text")
        return {}
    return value


def _string_list(value: Any, *, name: str, problems: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item.strip() for item in value
    ):
        problems.append(f"{name} must be a list of non-empty strings")
        return []
    return value


def _entry_problems(obj: dict[str, Any], slug: Any) -> list[str]:
    """Everything wrong with one entry on its own, parent excepted."""
    problems = []
    missing = sorted(REQUIRED_KEYS - set(obj))
    if missing:
        problems.append(f"missing fields: {', '.join(missing)}")
    unknown = sorted(set(obj) - REQUIRED_KEYS - OPTIONAL_KEYS)
    if unknown:
        problems.append(f"unknown fields: {', '.join(unknown)}")
    if "slug" in obj:
        try:
            if not isinstance(slug, str) or len(slug) > SLUG_MAX_LENGTH:
                raise ValidationError("bad slug")
            validate_slug(slug)
        except ValidationError:
            problems.append(
                f"bad slug {obj['slug']!r} (letters, digits, - and _, at most {SLUG_MAX_LENGTH})"
            )
    if "names" in obj:
        names = _text_by_language(obj["names"], name="names", problems=problems)
        if names and "en" not in names:
            problems.append('names must include "en"')
    _text_by_language(obj.get("descriptions", {}), name="descriptions", problems=problems)
    categories = _string_list(obj.get("categories", []), name="categories", problems=problems)
    bad = [category for category in categories if not CATEGORY_RE.match(category)]
    if bad:
        problems.append(f"bad arXiv categories: {', '.join(bad)}")
    _string_list(obj.get("keywords", []), name="keywords", problems=problems)
    if not isinstance(obj.get("featured", False), bool):
        problems.append("featured must be true or false")
    if not isinstance(obj.get("parent"), str | None):
        problems.append("parent must be a slug or null")
    return problems


def _parent_problem(
    slug: str, parent: str | None, *, parents: dict[str, str | None], rejected: set[str]
) -> str:
    """Why `parent` cannot be the parent of `slug`, or "" when it can.

    `parents` maps every slug known so far (the database's, then the file's valid entries)
    to its parent slug; `rejected` holds the slugs of the file's invalid entries so far.
    """
    if parent is None:
        return ""
    if parent == slug:
        return "a topic cannot be its own parent"
    if parent not in parents and parent in rejected:
        return f"parent {parent!r} was rejected"
    if parent not in parents:
        return f"unknown parent {parent!r} (a parent must exist or come earlier in the file)"
    ancestor: str | None = parent
    seen = {slug}
    while ancestor is not None:
        if ancestor in seen:
            return f"parent {parent!r} would make a cycle"
        seen.add(ancestor)
        ancestor = parents.get(ancestor)
    return ""


def _validate(data: list[Any], report: TopicImportReport) -> list[_Entry]:
    parents: dict[str, str | None] = dict(
        Topic.objects.values_list("slug", "parent__slug").order_by()
    )
    first_index: dict[str, int] = {}
    rejected: set[str] = set()
    entries = []
    for index, obj in enumerate(data, start=1):
        if not isinstance(obj, dict):
            report.errors.append(RejectedTopic(index, None, "not a JSON object"))
            continue
        slug = obj.get("slug") if isinstance(obj.get("slug"), str) else None
        problems = _entry_problems(obj, obj.get("slug"))
        if slug is not None and slug in first_index:
            problems.append(f"slug already defined by entry {first_index[slug]}")
        elif slug is not None:
            first_index[slug] = index
        if not problems and slug is not None:
            parent = obj.get("parent")
            problem = _parent_problem(slug, parent, parents=parents, rejected=rejected)
            if problem:
                problems.append(problem)
        if problems or slug is None:  # a missing slug is one of the problems
            report.errors.append(RejectedTopic(index, slug, "; ".join(problems)))
            if slug is not None:
                rejected.add(slug)
            continue
        parents[slug] = obj.get("parent")
        entries.append(
            _Entry(
                position=index,
                slug=slug,
                parent=obj.get("parent"),
                fields={
                    "names": obj["names"],
                    "descriptions": obj.get("descriptions", {}),
                    "categories": obj.get("categories", []),
                    "keywords": obj.get("keywords", []),
                    "featured": obj.get("featured", False),
                },
            )
        )
    return entries


def topics_import(*, data: list[Any]) -> TopicImportReport:
    """Validate the whole catalogue, then upsert its valid entries by slug in one transaction."""
    if not isinstance(data, list):
        raise CatalogueError("the catalogue must be a JSON array of topic objects")
    report = TopicImportReport()
    entries = _validate(data, report)
    with transaction.atomic():
        by_slug = {topic.slug: topic for topic in Topic.objects.select_for_update()}
        for entry in entries:
            topic = by_slug.get(entry.slug)
            if topic is None:
                topic = Topic(slug=entry.slug)
                report.created += 1
            else:
                report.updated += 1
            for name, value in entry.fields.items():
                setattr(topic, name, value)
            # Validation guarantees the parent was saved before (earlier in the file) or exists.
            topic.parent = by_slug[entry.parent] if entry.parent else None
            topic.position = entry.position
            topic.save()
            by_slug[entry.slug] = topic
    return report


def _topic_to_json(topic: Topic, *, slugs: dict[int, str]) -> dict[str, Any]:
    return {
        "slug": topic.slug,
        "names": topic.names,
        "descriptions": topic.descriptions,
        "categories": topic.categories,
        "parent": slugs[topic.parent_id] if topic.parent_id else None,
        "featured": topic.featured,
        "keywords": topic.keywords,
    }


def topics_export() -> list[dict[str, Any]]:
    """The whole catalogue in its order, each parent moved before its children if needed."""
    topics = list(Topic.objects.order_by("position", "slug"))
    by_id = {topic.pk: topic for topic in topics}
    slugs = {topic.pk: topic.slug for topic in topics}
    ordered: list[Topic] = []
    placed: set[int] = set()

    def place(topic: Topic) -> None:
        # Parent chains are acyclic (the import refuses cycles), so this terminates.
        if topic.pk in placed:
            return
        placed.add(topic.pk)
        if topic.parent_id is not None:
            place(by_id[topic.parent_id])
        ordered.append(topic)

    for topic in topics:
        place(topic)
    return [_topic_to_json(topic, slugs=slugs) for topic in ordered]
