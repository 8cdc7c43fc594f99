"""A signed-in reader's archive: the digests they received, day by day, and the papers they
marked (more, less, clicked in an e-mail, saved). Each page in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch

from digests.models import Digest, DigestItem, Feedback, Paper, SavedPaper
from subscribers.models import Subscriber

__all__ = [
    "ARCHIVE_PAGE_SIZE",
    "MARKED_PAGE_SIZE",
    "ArchiveDay",
    "ArchivePage",
    "MarkedPage",
    "MarkedPaper",
    "archive_page_build",
    "marked_page_build",
    "received_digest",
]

ARCHIVE_PAGE_SIZE = 10  # digests (days) a page
MARKED_PAGE_SIZE = 50
RECEIVED = (Digest.Status.SENT,)  # a digest assembled but never sent was not received


@dataclass(frozen=True)
class ArchiveItem:
    item: DigestItem
    reasons: list[str]  # as assembly stored them, one a line


@dataclass(frozen=True)
class ArchiveDay:
    digest: Digest
    items: list[ArchiveItem]


@dataclass(frozen=True)
class ArchivePage:
    days: list[ArchiveDay]
    total: int  # digests received
    page: int
    has_next: bool


@dataclass(frozen=True)
class MarkedPaper:
    paper: Paper
    signals: list[str]  # Feedback signals and "saved"
    when: dt.datetime


@dataclass(frozen=True)
class MarkedPage:
    papers: list[MarkedPaper]
    total: int
    page: int
    has_next: bool


def _received(subscriber: Subscriber):
    return Digest.objects.filter(subscriber=subscriber, status__in=RECEIVED)


def archive_page_build(*, subscriber: Subscriber, page: int) -> ArchivePage:
    """The reader's received digests, newest day first, with their items: three queries."""
    received = _received(subscriber)
    total = received.count()
    start = (page - 1) * ARCHIVE_PAGE_SIZE
    items = DigestItem.objects.select_related("paper", "topic").order_by("rank")
    digests = list(
        received.order_by("-issue_date").prefetch_related(Prefetch("items", queryset=items))[
            start : start + ARCHIVE_PAGE_SIZE
        ]
    )
    days = [
        ArchiveDay(
            digest=digest,
            items=[
                ArchiveItem(item=item, reasons=[r for r in item.reason.split("\n") if r.strip()])
                for item in digest.items.all()
            ],
        )
        for digest in digests
    ]
    return ArchivePage(
        days=days, total=total, page=page, has_next=total > start + ARCHIVE_PAGE_SIZE
    )


def received_digest(*, subscriber: Subscriber, day: dt.date) -> Digest | None:
    """The reader's digest of that day, if they received it."""
    return _received(subscriber).filter(issue_date=day).select_related("subscriber").first()


def marked_page_build(*, subscriber: Subscriber, page: int) -> MarkedPage:
    """The papers the reader marked or saved, last marked first: three queries.

    One paper may carry two marks (saved, and "more"); it is listed once, at its latest.
    """
    marks: dict[int, tuple[list[str], dt.datetime]] = {}
    rows: list[tuple[int, str, dt.datetime]] = [
        *Feedback.objects.filter(subscriber=subscriber).values_list(
            "paper_id", "signal", "created_at"
        ),
        *(
            (paper_id, "saved", saved_at)
            for paper_id, saved_at in SavedPaper.objects.filter(subscriber=subscriber).values_list(
                "paper_id", "saved_at"
            )
        ),
    ]
    for paper_id, signal, when in rows:
        signals, latest = marks.get(paper_id, ([], when))
        marks[paper_id] = ([*signals, signal], max(latest, when))
    ordered = sorted(marks, key=lambda pid: (marks[pid][1], pid), reverse=True)
    start = (page - 1) * MARKED_PAGE_SIZE
    shown = ordered[start : start + MARKED_PAGE_SIZE]
    papers = Paper.objects.in_bulk(shown)
    return MarkedPage(
        papers=[
            MarkedPaper(paper=papers[pid], signals=sorted(marks[pid][0]), when=marks[pid][1])
            for pid in shown
            if pid in papers
        ],
        total=len(ordered),
        page=page,
        has_next=len(ordered) > start + MARKED_PAGE_SIZE,
    )
