"""The day at a glance, for staff: what one announcement day's pipeline did, in a few queries.

Every figure is a GROUP BY over the day's rows, so the cost is the same for 10 papers or 10,000:
papers by type, their readings (enrichments) by status, digests and their deliveries, the
IngestDay verdict, and the timings of each step; plus 30 days of sending, bounces and opens,
and of papers ingested by source (arXiv, bioRxiv, medRxiv).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q
from django.utils import timezone

from digests.delivery import STUCK_AFTER
from digests.models import (
    Delivery,
    Digest,
    Enrichment,
    IngestDay,
    Paper,
    PipelineStep,
    Source,
    StepRun,
)

__all__ = [
    "DayDashboard",
    "DeliveryCounts",
    "DeliveryHistory",
    "DigestCounts",
    "PaperCounts",
    "PaperHistory",
    "StepSummary",
    "dashboard_day",
    "dashboard_default_day",
    "delivery_history",
    "paper_history",
]


@dataclass(kw_only=True)
class PaperCounts:
    """Papers of the day by announce type and by source; their readings (paper × language)
    by status."""

    by_type: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)  # every source, 0 when none
    readings: dict[str, int] = field(default_factory=dict)
    unread: int = 0  # papers with no reading of their current version at all: still pending

    @property
    def total(self) -> int:
        return sum(self.by_type.values())


@dataclass(kw_only=True)
class DigestCounts:
    made: int = 0
    sent: int = 0
    empty: int = 0
    failed: int = 0  # the digest failed, or its delivery did for good
    waiting: int = 0  # assembled with a delivery not yet (or never) finished
    empty_reasons: dict[str, int] = field(default_factory=dict)


@dataclass(kw_only=True)
class DeliveryCounts:
    by_status: dict[str, int] = field(default_factory=dict)
    stuck: int = 0  # claimed longer than STUCK_AFTER ago and never finished
    opened: int = 0
    clicked: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(kw_only=True)
class StepSummary:
    """Every run of one step for the day: a send runs once per batch of readers due."""

    step: str
    runs: int = 0
    started_at: dt.datetime | None = None  # of the first run
    finished_at: dt.datetime | None = None  # of the last finished run
    duration: dt.timedelta = dt.timedelta(0)  # summed over finished runs
    failed: int = 0
    unfinished: int = 0  # running now, or the process died
    note: str = ""  # the last note of its runs (an error, or why ingestion found nothing)
    counts: dict[str, Any] = field(default_factory=dict)  # numbers summed, the rest the last

    @property
    def seconds(self) -> float:
        return self.duration.total_seconds()


@dataclass(kw_only=True)
class DayDashboard:
    day: dt.date
    previous: dt.date | None
    next: dt.date | None
    ingest: IngestDay | None
    papers: PaperCounts
    digests: DigestCounts
    deliveries: DeliveryCounts
    steps: list[StepSummary]


def dashboard_default_day() -> dt.date:
    """The latest announcement day; else the latest day ingestion looked at; else today."""
    latest = IngestDay.objects.aggregate(
        announced=Max("date", filter=Q(status=IngestDay.Status.ANNOUNCED)), any=Max("date")
    )
    return latest["announced"] or latest["any"] or timezone.localdate()


def _neighbours(day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The nearest days before and after that ingestion looked at (announced or not)."""
    around = IngestDay.objects.aggregate(
        previous=Max("date", filter=Q(date__lt=day)), next=Min("date", filter=Q(date__gt=day))
    )
    return around["previous"], around["next"]


def paper_counts(*, day: dt.date) -> PaperCounts:
    current = Enrichment.objects.filter(paper=OuterRef("pk"), paper_version=OuterRef("version"))
    per_type = (
        Paper.objects.filter(announce_date=day)
        .values("announce_type", "source")
        .annotate(n=Count("pk"), unread=Count("pk", filter=~Exists(current)))
        .order_by()
    )
    readings = (
        Enrichment.objects.filter(paper__announce_date=day, paper_version=F("paper__version"))
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = PaperCounts(by_source=dict.fromkeys(Source.values, 0))
    for row in per_type:
        counts.by_type[row["announce_type"]] = (
            counts.by_type.get(row["announce_type"], 0) + row["n"]
        )
        counts.by_source[row["source"]] = counts.by_source.get(row["source"], 0) + row["n"]
        counts.unread += row["unread"]
    counts.readings = {row["status"]: row["n"] for row in readings}
    return counts


def digest_and_delivery_counts(
    *, day: dt.date, now: dt.datetime | None = None
) -> tuple[DigestCounts, DeliveryCounts]:
    """One GROUP BY over the day's digests joined to their deliveries."""
    stuck_before = (now or timezone.now()) - STUCK_AFTER
    rows = (
        Digest.objects.filter(issue_date=day)
        .values("status", "note", "delivery__status")
        .annotate(
            n=Count("pk"),
            stuck=Count(
                "pk",
                filter=Q(
                    delivery__status=Delivery.Status.SENDING,
                    delivery__claimed_at__lt=stuck_before,
                ),
            ),
            opened=Count("delivery__opened_at"),
            clicked=Count("delivery__clicked_at"),
        )
        .order_by()
    )
    digests, deliveries = DigestCounts(), DeliveryCounts()
    reasons: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    for row in rows:
        n, status, delivery = row["n"], row["status"], row["delivery__status"]
        digests.made += n
        if status == Digest.Status.EMPTY:
            digests.empty += n
            reasons[row["note"] or "(no reason given)"] += n
        elif status == Digest.Status.SENT:
            digests.sent += n
        elif status == Digest.Status.FAILED or delivery == Delivery.Status.FAILED:
            digests.failed += n
        else:
            digests.waiting += n
        if delivery is not None:
            by_status[delivery] += n
        deliveries.stuck += row["stuck"]
        deliveries.opened += row["opened"]
        deliveries.clicked += row["clicked"]
    digests.empty_reasons = dict(reasons.most_common())
    deliveries.by_status = {s.value: by_status[s.value] for s in Delivery.Status}
    return digests, deliveries


def step_summaries(*, day: dt.date) -> list[StepSummary]:
    """Each step's runs for the day, in pipeline order (one query; a day has few runs)."""
    summaries = {step.value: StepSummary(step=step.value) for step in PipelineStep}
    for run in StepRun.objects.filter(day=day).order_by("started_at", "pk"):
        summary = summaries[run.step]
        summary.runs += 1
        summary.started_at = summary.started_at or run.started_at
        summary.note = run.note or summary.note
        if run.finished_at is None:
            summary.unfinished += 1
            continue
        summary.finished_at = run.finished_at
        summary.duration += run.finished_at - run.started_at
        summary.failed += not run.ok
        for name, value in run.counts.items():
            if isinstance(value, int) and not isinstance(value, bool):
                summary.counts[name] = summary.counts.get(name, 0) + value
            else:
                summary.counts[name] = value
    return list(summaries.values())


def dashboard_day(*, day: dt.date, now: dt.datetime | None = None) -> DayDashboard:
    """Every figure of one announcement day, in six queries whatever the day's size."""
    previous, following = _neighbours(day)
    digests, deliveries = digest_and_delivery_counts(day=day, now=now)
    return DayDashboard(
        day=day,
        previous=previous,
        next=following,
        ingest=IngestDay.objects.filter(date=day).first(),
        papers=paper_counts(day=day),
        digests=digests,
        deliveries=deliveries,
        steps=step_summaries(day=day),
    )


@dataclass(kw_only=True)
class DeliveryHistory:
    """Per issue day, oldest first: what was sent and what the ESP reported back."""

    days: list[dt.date]
    sent: list[int]
    failed: list[int]
    bounced: list[int]
    complained: list[int]
    opened: list[int]
    clicked: list[int]

    @property
    def tracked(self) -> bool:
        """Whether the ESP reported any open or click in the window (tracking may be off)."""
        return any(self.opened) or any(self.clicked)


def delivery_history(*, end: dt.date, days: int = 30) -> DeliveryHistory:
    """The `days` calendar days up to `end`, each with its counts (0 when nothing was sent)."""
    start = end - dt.timedelta(days=days - 1)
    rows = (
        Delivery.objects.filter(digest__issue_date__range=(start, end))
        .values("digest__issue_date")
        .annotate(
            sent=Count("sent_at"),
            failed=Count("pk", filter=Q(status=Delivery.Status.FAILED)),
            bounced=Count("pk", filter=Q(status=Delivery.Status.BOUNCED)),
            complained=Count("pk", filter=Q(status=Delivery.Status.COMPLAINED)),
            opened=Count("opened_at"),
            clicked=Count("clicked_at"),
        )
        .order_by()
    )
    by_day = {row.pop("digest__issue_date"): row for row in rows}
    calendar = [start + dt.timedelta(days=n) for n in range(days)]
    names = ["sent", "failed", "bounced", "complained", "opened", "clicked"]
    columns = {name: [by_day.get(d, {}).get(name, 0) for d in calendar] for name in names}
    return DeliveryHistory(days=calendar, **columns)


@dataclass(kw_only=True)
class PaperHistory:
    """Per issue day, oldest first: the papers ingested for it, one series per source."""

    days: list[dt.date]
    by_source: dict[str, list[int]]  # source value → a count per day (every source)


def paper_history(*, end: dt.date, days: int = 30) -> PaperHistory:
    """The `days` calendar days up to `end`: papers of each day (new, cross-lists and
    replacements, as the day's "ingested" figure counts them) by source, in one query."""
    start = end - dt.timedelta(days=days - 1)
    rows = (
        Paper.objects.filter(announce_date__range=(start, end))
        .values("announce_date", "source")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(row["announce_date"], row["source"]): row["n"] for row in rows}
    calendar = [start + dt.timedelta(days=n) for n in range(days)]
    sources = [*Source.values, *sorted({s for _, s in counts} - set(Source.values))]
    return PaperHistory(
        days=calendar,
        by_source={source: [counts.get((d, source), 0) for d in calendar] for source in sources},
    )
