"""Plain factories for the models: sensible defaults, every field overridable."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from digests.models import (
    AnnounceType,
    Delivery,
    Digest,
    DigestItem,
    DigestUpdate,
    Enrichment,
    Feedback,
    LLMUsage,
    Paper,
    PaperVersion,
    Topic,
)
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
            "include_updates",
            "serendipity",
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


def make_enrichment(**fields: Any) -> Enrichment:
    paper = fields.pop("paper", None) or make_paper()
    fields.setdefault("paper_version", paper.version)
    fields.setdefault("language", "zh")
    fields.setdefault("prompt_version", "v1")
    fields.setdefault("title", f"译: {paper.title}")
    fields.setdefault("summary", "One sentence about the paper.")
    return Enrichment.objects.create(paper=paper, **fields)


def make_digest(**fields: Any) -> Digest:
    if "subscriber" not in fields:
        fields["subscriber"] = make_subscriber()
    fields.setdefault("issue_date", dt.date(2026, 6, 18))
    return Digest.objects.create(**fields)


def make_digest_item(**fields: Any) -> DigestItem:
    digest = fields.pop("digest", None) or make_digest()
    if "paper" not in fields:
        fields["paper"] = make_paper()
    fields.setdefault("rank", digest.items.count() + 1)
    fields.setdefault("relevance", 80)
    fields.setdefault("reason", "topic hit")
    return DigestItem.objects.create(digest=digest, **fields)


def make_delivery(**fields: Any) -> Delivery:
    if "digest" not in fields:
        fields["digest"] = make_digest()
    return Delivery.objects.create(**fields)


def make_feedback(**fields: Any) -> Feedback:
    if "subscriber" not in fields:
        fields["subscriber"] = make_subscriber()
    if "paper" not in fields:
        fields["paper"] = make_paper()
    fields.setdefault("signal", Feedback.Signal.MORE)
    return Feedback.objects.create(**fields)


def make_llm_usage(**fields: Any) -> LLMUsage:
    fields.setdefault("day", dt.date(2026, 6, 18))
    fields.setdefault("model", "gpt-4o-mini")
    fields.setdefault("purpose", LLMUsage.Purpose.ENRICH)
    fields.setdefault("calls", 1)
    return LLMUsage.objects.create(**fields)


def make_digest_update(**fields: Any) -> DigestUpdate:
    """A new version in a digest of a paper its reader got the day before (v1 kept as announced,
    with no comment; the paper now v2, "Accepted at ICML 2026")."""
    digest = fields.pop("digest", None) or make_digest()
    paper = fields.pop("paper", None) or make_paper(version=2, comment="Accepted at ICML 2026")
    fields.setdefault("version", paper.version)
    fields.setdefault("previous_version", paper.version - 1)
    fields.setdefault("previous_date", digest.issue_date - dt.timedelta(days=1))
    PaperVersion.objects.get_or_create(
        paper=paper,
        version=fields["previous_version"],
        defaults={
            "announce_date": fields["previous_date"],
            "title": paper.title,
            "abstract": paper.abstract,
        },
    )
    return DigestUpdate.objects.create(digest=digest, paper=paper, **fields)
