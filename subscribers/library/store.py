"""The reader's library in the database: import, drop, and what the scorer reads of it.

An import adds the entries the reader does not have yet (the same paper twice, in one file or
across imports, is kept once: by arXiv id, else DOI, else title) and never revives one the
reader dropped. The scorer reads the LIBRARY_SEEDS entries added most recently, each weighing
less the older it is (`library_seeds`); every arXiv paper of the library, dropped or not, is
kept out of the reader's digests (`library_arxiv_ids`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from subscribers.library.entries import Entry, title_key
from subscribers.library.formats import LibraryFile, Rejected
from subscribers.models import LibraryEntry, Subscriber

__all__ = [
    "LIBRARY_SEEDS",
    "LibraryReport",
    "LibrarySeed",
    "LibrarySummary",
    "LookupUnavailable",
    "library_arxiv_ids",
    "library_drop",
    "library_entries_store",
    "library_import",
    "library_seeds",
    "library_summary",
]

LIBRARY_SEEDS = 100  # the most recent entries that shape the profile
BATCH = 1000


class LookupUnavailable(Exception):
    """arXiv could not be asked now; the lookup can be queued for a worker instead."""


@dataclass
class LibraryReport:
    format: str = ""
    entries: int = 0  # entries in the file, rejected ones included
    arxiv: int = 0  # new entries that are arXiv papers
    lookup: int = 0  # new entries with a DOI, to look up on arXiv
    text: int = 0  # new entries kept as text
    already: int = 0  # entries the library had already
    resolved: int = 0  # DOIs found on arXiv afterwards (set by the lookup)
    rejected: list[Rejected] = field(default_factory=list)

    def summary(self) -> str:
        found = self.arxiv + self.resolved
        kept = self.text + self.lookup - self.resolved
        line = (
            f"{self.entries} entries: {found} arXiv papers found, {kept} kept as text, "
            f"{self.already} already in the library, {len(self.rejected)} rejected"
        )
        return f"{line} ({self.format})" if self.format else line

    def as_json(self) -> dict[str, object]:
        return {
            "entries": self.entries,
            "arxiv": self.arxiv + self.resolved,
            "text": self.text + self.lookup - self.resolved,
            "already": self.already,
            "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected],
        }


def _state(entry: Entry) -> str:
    if entry.arxiv_id:
        return LibraryEntry.State.ARXIV
    return LibraryEntry.State.LOOKUP if entry.doi else LibraryEntry.State.TEXT


def _deduplicated(entries: Iterable[Entry], report: LibraryReport) -> list[Entry]:
    """Entries with something to go on, each paper once (the first spelling wins)."""
    by_key: dict[str, int] = {}
    by_title: dict[str, int] = {}
    kept = []
    for entry in entries:
        if not (entry.arxiv_id or entry.doi or entry.title):
            report.rejected.append(Rejected(entry.line, "no title, arXiv id or DOI"))
            continue
        words = title_key(entry.title)
        first = by_key.get(entry.key) or (by_title.get(words) if words else None)
        if first is not None:
            report.rejected.append(Rejected(entry.line, f"duplicate of the entry on line {first}"))
            continue
        by_key[entry.key] = entry.line
        if words:
            by_title[words] = entry.line
        kept.append(entry)
    return kept


def library_entries_store(
    *, subscriber: Subscriber, entries: list[Entry], source: str, report: LibraryReport
) -> list[LibraryEntry]:
    """Add the entries the library lacks; the rows created."""
    existing = set(
        LibraryEntry.objects.filter(
            subscriber=subscriber, key__in=[e.key for e in entries]
        ).values_list("key", flat=True)
    )
    now = timezone.now()
    rows = []
    for entry in entries:
        if entry.key in existing:
            report.already += 1
            continue
        state = _state(entry)
        report.arxiv += state == LibraryEntry.State.ARXIV
        report.lookup += state == LibraryEntry.State.LOOKUP
        report.text += state == LibraryEntry.State.TEXT
        rows.append(
            LibraryEntry(
                subscriber=subscriber,
                key=entry.key,
                source=source,
                state=state,
                arxiv_id=entry.arxiv_id,
                doi=entry.doi,
                title=entry.title,
                abstract=entry.abstract,
                added_at=entry.added_at or now,
                zotero_key=entry.zotero_key,
            )
        )
    with transaction.atomic():
        # ignore_conflicts: an import running twice at once keeps each paper once.
        LibraryEntry.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
    return rows


def library_import(
    *, subscriber: Subscriber, read: LibraryFile, source: str = LibraryEntry.Source.FILE
) -> LibraryReport:
    """Store a file's entries in the reader's library; what was found, kept and rejected."""
    report = LibraryReport(
        format=read.format,
        entries=len(read.entries) + len(read.rejected),
        rejected=list(read.rejected),
    )
    kept = _deduplicated(read.entries, report)
    library_entries_store(subscriber=subscriber, entries=kept, source=source, report=report)
    report.rejected.sort(key=lambda r: r.line)
    return report


def library_drop(*, subscriber: Subscriber, entry_ids: Iterable[int]) -> int:
    """Drop entries from what shapes the profile; a later import or sync does not bring them
    back. Their arXiv papers stay out of the digests."""
    return LibraryEntry.objects.filter(subscriber=subscriber, pk__in=list(entry_ids)).update(
        dropped=True
    )


@dataclass(frozen=True)
class LibrarySeed:
    """A library entry as the scorer reads it: its arXiv paper if held, else its own text."""

    arxiv_id: str
    text: str  # "title\nabstract" from the file (used when the paper is not held)
    weight: float  # 1 for the newest, less for older ones


def library_seeds(subscriber_ids: Iterable[int]) -> dict[int, list[LibrarySeed]]:
    """Each reader's LIBRARY_SEEDS most recent entries (not dropped), newest first, weighing
    1 / (1 + log10(rank)) by recency of adding. One query for any number of readers."""
    rows = (
        LibraryEntry.objects.filter(subscriber_id__in=list(subscriber_ids), dropped=False)
        .order_by("subscriber_id", "-added_at", "-pk")
        .values_list("subscriber_id", "arxiv_id", "title", "abstract")
    )
    seeds: dict[int, list[LibrarySeed]] = defaultdict(list)
    for subscriber_id, arxiv_id, title, abstract in rows.iterator(chunk_size=BATCH):
        listed = seeds[subscriber_id]
        if len(listed) < LIBRARY_SEEDS:
            weight = 1 / (1 + math.log10(len(listed) + 1))
            text = f"{title}\n{abstract}".strip()
            listed.append(LibrarySeed(arxiv_id=arxiv_id, text=text, weight=weight))
    return seeds


def library_arxiv_ids(subscriber_ids: Iterable[int]) -> dict[int, set[str]]:
    """Every arXiv paper in each reader's library, dropped ones too: never recommended back."""
    found: dict[int, set[str]] = defaultdict(set)
    rows = LibraryEntry.objects.filter(subscriber_id__in=list(subscriber_ids)).exclude(arxiv_id="")
    for subscriber_id, arxiv_id in rows.values_list("subscriber_id", "arxiv_id"):
        found[subscriber_id].add(arxiv_id)
    return found


@dataclass
class LibrarySummary:
    arxiv: int = 0
    text: int = 0
    lookup: int = 0
    dropped: int = 0
    recent: list[LibraryEntry] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.arxiv + self.text + self.lookup


def library_summary(subscriber: Subscriber, *, recent: int = 50) -> LibrarySummary:
    """What the editor shows: counts by state and the entries added last."""
    summary = LibrarySummary()
    entries = LibraryEntry.objects.filter(subscriber=subscriber)
    counts = entries.filter(dropped=False).values("state").order_by().annotate(n=Count("pk"))
    for row in counts:
        setattr(summary, str(row["state"]), row["n"])
    summary.dropped = entries.filter(dropped=True).count()
    summary.recent = list(entries.filter(dropped=False)[:recent])
    return summary
