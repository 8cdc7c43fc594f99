"""Step 1 for bioRxiv and medRxiv: the preprints posted since the previous issue day, read
page by page from `details/<server>/<from>/<to>/<cursor>`, stored as papers of the issue day.

These servers post every day; our issue days are arXiv's announcement days. An issue day takes
what was posted from the previous issue day (whose own postings came after its morning run)
to the day before: Friday, Saturday and Sunday reach Monday. Reading a window again changes
nothing. One bad record is skipped and said on the day (`IngestDay.skipped`), never the window.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from digests.arxiv.records import RecordError, RecordProblem
from digests.biorxiv.client import (
    PAGE_SIZE,
    BiorxivSession,
    BiorxivUnavailable,
    page_fetch,
)
from digests.biorxiv.records import Preprint, preprint_read
from digests.biorxiv.store import preprints_upsert
from digests.biorxiv.subjects import SERVERS, server_of
from digests.models import IngestDay

__all__ = ["MAX_WINDOW_DAYS", "PreprintReport", "issue_window", "preprints_ingest"]

log = logging.getLogger(__name__)

MAX_WINDOW_DAYS = 7  # after a long pause, a week is read, not everything since
MAX_PAGES = 2000  # a window that never ends (a cursor the server ignores) stops here
ALL_SUBJECTS = "*"  # `biorxiv:*`: every subject of the server


@dataclass
class PreprintReport:
    day: dt.date
    first: dt.date
    last: dt.date
    subjects: list[str] = field(default_factory=list)
    records: int = 0  # read from the API, every subject
    kept: int = 0  # of the subjects wanted
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    requests: int = 0
    skipped: list[RecordProblem] = field(default_factory=list)
    note: str = ""
    failed: bool = False

    def summary(self) -> str:
        return (
            f"bioRxiv/medRxiv {self.first}…{self.last}: {self.records} records read, "
            f"{self.kept} in the subjects wanted: {self.created} new, {self.updated} changed, "
            f"{self.unchanged} unchanged, {self.withdrawn} withdrawn, {len(self.skipped)} "
            f"skipped as invalid ({self.requests} requests)"
            + (f"; {self.note.strip()}" if self.note.strip() else "")
        )


def issue_window(day: dt.date) -> tuple[dt.date, dt.date]:
    """The posting days an issue day takes: from the previous issue day to the day before."""
    previous = (
        IngestDay.objects.filter(status=IngestDay.Status.ANNOUNCED, date__lt=day)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    if previous is None:  # the first issue: the previous weekday on (a Monday takes Friday on)
        previous = day - dt.timedelta(days=3 if day.weekday() == 0 else 1)
    last = day - dt.timedelta(days=1)
    return max(previous, day - dt.timedelta(days=MAX_WINDOW_DAYS)), last


def _window_pages(
    session: BiorxivSession, server: str, first: dt.date, last: dt.date, report: PreprintReport
) -> Iterator[list[object]]:
    """Every page of the window, cursor after cursor; a page shorter than it should be is
    followed from where it stopped, so no record is lost to it."""
    cursor = 0
    for _ in range(MAX_PAGES):
        page = page_fetch(session, server=server, first=first, last=last, cursor=cursor)
        if not page.records:
            if page.status.lower() not in {"ok", "no posts found"}:
                report.note += f"{server}: the API says {page.status[:100]!r}\n"
            return
        yield page.records
        cursor += len(page.records)
        if page.total and cursor >= page.total:
            return
        if len(page.records) < PAGE_SIZE and page.total:
            report.note += f"{server}: a page of {len(page.records)} at cursor {cursor}\n"


def _wanted(code: str, subjects: set[str]) -> bool:
    return code in subjects or f"{server_of(code)}:{ALL_SUBJECTS}" in subjects


def preprints_ingest(
    *,
    day: dt.date,
    categories: Iterable[str],
    session: BiorxivSession | None = None,
    progress: Callable[[int], None] | None = None,
) -> PreprintReport:
    """Read the issue day's window of every server a wanted subject names; store its papers."""
    subjects = {code for code in categories if server_of(code)}
    first, last = issue_window(day)
    report = PreprintReport(day=day, first=first, last=last, subjects=sorted(subjects))
    session = session or BiorxivSession()
    before = session.request_count
    by_doi: dict[str, list[Preprint]] = {}
    for server in (s for s in SERVERS if any(server_of(c) == s for c in subjects)):
        try:
            for records in _window_pages(session, server, first, last, report):
                report.records += len(records)
                for record in records:
                    try:
                        preprint = preprint_read(record, server=server)
                    except RecordError as error:
                        doi = record.get("doi") if isinstance(record, dict) else ""
                        report.skipped.append(RecordProblem(str(doi or "")[:128], str(error)))
                        continue
                    if not _wanted(preprint.fields["primary_category"], subjects):
                        continue
                    report.kept += 1
                    report.skipped.extend(preprint.problems)  # fields cut, the record kept
                    by_doi.setdefault(preprint.doi, []).append(preprint)
                if progress:
                    progress(len(records))
        except BiorxivUnavailable as error:  # what was read is stored; the day is tried again
            log.error("%s", error)
            report.failed = True
            report.note += f"{server}: {error}\n"
    for versions in by_doi.values():
        versions.sort(key=lambda p: p.version)
        # one record a version: the same version twice keeps the later record
        unique = {p.version: p for p in versions}
        versions[:] = list(unique.values())
    outcome = preprints_upsert(by_doi=by_doi, day=day)
    report.created, report.updated = outcome.created, outcome.updated
    report.unchanged, report.withdrawn = outcome.unchanged, outcome.withdrawn
    report.skipped.extend(outcome.skipped)
    report.requests = session.request_count - before
    _record(report)
    return report


def _record(report: PreprintReport) -> None:
    """Say on the issue day's row what the preprint servers gave, beside arXiv's figures
    (which ingestion has just written: each run writes the row afresh)."""
    row = IngestDay.objects.filter(date=report.day).first()
    if row is None:
        return
    row.created += report.created
    row.updated += report.updated
    skipped = [p.as_json() for p in report.skipped if not p.field]
    repaired = [p.as_json() for p in report.skipped if p.field]
    row.skipped = [*row.skipped, *(p for p in skipped if p not in row.skipped)]
    row.repaired = [*row.repaired, *(p for p in repaired if p not in row.repaired)]
    line = report.summary()
    if line not in row.note:
        row.note = f"{row.note}\n{line}".strip()
    row.categories = sorted({*row.categories, *report.subjects})
    row.save(update_fields=["created", "updated", "skipped", "repaired", "note", "categories"])
