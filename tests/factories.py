"""Plain factories for the models: sensible defaults, every field overridable."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from digests.models import AnnounceType, Paper, Topic
from subscribers.models import InterestProfile, Subscriber

_counter = itertools.count(1)


def make_subscriber(**fields: Any) -> Subscriber:
    n = next(_counter)
    profile_fields = {
        key: fields.pop(key)
        for key in list(fields)
        if key
        in {
            "keywords",
            "exclude_keywords",
            "authors",
            "institutions",
            "categories",
            "interests",
            "seed_papers",
            "max_items",
            "min_relevance",
        }
    }
    topics = fields.pop("topics", [])
    fields.setdefault("email", f"reader{n}@example.org")
    fields.setdefault("status", Subscriber.Status.ACTIVE)
    subscriber = Subscriber.objects.create(**fields)
    profile = InterestProfile.objects.create(subscriber=subscriber, **profile_fields)
    if topics:
        profile.topics.set(topics)
    return subscriber


def make_topic(**fields: Any) -> Topic:
    n = next(_counter)
    fields.setdefault("slug", f"topic-{n}")
    fields.setdefault("names", {"en": f"Topic {n}", "zh": f"专题{n}"})
    fields.setdefault("categories", ["cs.CL"])
    return Topic.objects.create(**fields)


def make_paper(**fields: Any) -> Paper:
    n = next(_counter)
    fields.setdefault("arxiv_id", f"2606.{10000 + n:05d}")
    fields.setdefault("title", f"Paper number {n}")
    fields.setdefault("abstract", "We study things.")
    fields.setdefault("authors", [{"name": "Ada Lovelace", "affiliations": []}])
    fields.setdefault("categories", ["cs.CL"])
    fields.setdefault("primary_category", fields["categories"][0])
    fields.setdefault("announce_date", dt.date(2026, 6, 18))
    fields.setdefault("announce_type", AnnounceType.NEW)
    return Paper.objects.create(**fields)
