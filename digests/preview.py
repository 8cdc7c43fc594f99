"""The digest a profile would have received for the last announcement day, before it is saved.

The profile editor's live preview. It runs the daily pipeline's own scoring and ranking
(`scoring.inputs` → `scoring.scores` → `ranking`, as `assemble` does) on a draft of the profile, and
writes nothing: no Digest, no item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from digests.assemble import picks_for
from digests.models import Topic
from digests.readings import latest_issue_date, readings_for
from digests.shown import ShownPaper, shown_paper
from subscribers.models import InterestProfile, Subscriber

__all__ = ["Preview", "PreviewItem", "digest_preview"]


@dataclass(frozen=True)
class PreviewItem:
    """A ranked paper of the preview: the shown paper, and why it was picked."""

    shown: ShownPaper
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "arxiv_id": self.shown.arxiv_id,
            "url": self.shown.abs_url,
            "title": self.shown.title,
            "translated_title": self.shown.translated_title,
            "relevance": self.shown.relevance,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Preview:
    issue_date: dt.date | None  # None: no paper announced yet
    considered: int  # papers of the day (or week) scored
    items: list[PreviewItem]

    def as_json(self) -> dict[str, Any]:
        return {
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "considered": self.considered,
            "items": [item.as_json() for item in self.items],
        }


def _draft(
    subscriber: Subscriber,
    subscriber_fields: dict[str, Any],
    profile_fields: dict[str, Any],
    topics: list[Topic],
) -> Subscriber:
    """An unsaved copy of the subscriber holding the draft profile, read by `profile_rows`.

    It keeps the subscriber's id, so their past feedback counts as it will tomorrow. The draft's
    topics are put in the prefetch cache, where `profile.topics.all()` finds them without a query
    (a many-to-many relation cannot hold unsaved choices otherwise).
    """
    fields = {"language": subscriber.language, "frequency": subscriber.frequency}
    draft = Subscriber(pk=subscriber.pk, email=subscriber.email, **(fields | subscriber_fields))
    try:
        stored: InterestProfile | None = subscriber.profile
    except InterestProfile.DoesNotExist:
        stored = None
    # What the editor's form does not hold stays as stored: the categories the reader dropped.
    kept = {"dropped_categories": list(stored.dropped_categories)} if stored else {}
    profile = InterestProfile(
        pk=stored.pk if stored else 0, subscriber=draft, **(kept | profile_fields)
    )
    chosen = Topic.objects.all()
    chosen._result_cache = list(topics)
    chosen._prefetch_done = True  # type: ignore[attr-defined]
    profile._prefetched_objects_cache = {"topics": chosen}  # type: ignore[attr-defined]
    draft.profile = profile
    return draft


def digest_preview(
    *,
    subscriber: Subscriber,
    subscriber_fields: dict[str, Any],
    profile_fields: dict[str, Any],
    topics: Iterable[Topic],
) -> Preview:
    """Rank the last announcement day's papers (its week, for weekly readers) for a draft profile.

    `subscriber_fields` and `profile_fields` are what the editor's form holds; missing ones
    fall back to the models' defaults. Papers already sent are not left out: the preview shows
    the profile, not the reader's history.
    """
    issue_date = latest_issue_date(source="papers")
    if issue_date is None:
        return Preview(issue_date=None, considered=0, items=[])
    draft = _draft(subscriber, subscriber_fields, profile_fields, list(topics))
    papers, picks = picks_for(subscriber=draft, issue_date=issue_date, exclude=set())
    chosen = [papers[pick.paper] for pick in picks]
    readings = readings_for(chosen, draft.language)
    items = [
        PreviewItem(
            shown=shown_paper(paper, readings[paper.pk], relevance=pick.relevance),
            reason=pick.reason,
        )
        for pick, paper in zip(picks, chosen, strict=True)
    ]
    return Preview(issue_date=issue_date, considered=len(papers), items=items)
