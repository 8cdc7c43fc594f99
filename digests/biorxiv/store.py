"""The preprints of a window into papers, upserted by DOI; each version kept as a PaperVersion.

A DOI seen for the first time is a new paper of the issue day (a `replace` when its first
version was posted before our window: a replacement of a paper the readers never got); a
higher version of a paper we hold is a replacement, as arXiv's are; the same version read
again (a window re-read) refreshes what may change (the journal DOI once published) without
moving its day. A withdrawn paper leaves every day (no day's query sees it again): it is never
sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from digests.arxiv.records import RECORD_ERRORS, RecordProblem, papers_save_each
from digests.biorxiv.records import Preprint
from digests.models import AnnounceType, Paper, PaperVersion, ResultType

__all__ = ["StoreOutcome", "preprints_upsert"]

log = logging.getLogger(__name__)

# What a version read again may change; the days and the version are the announcement's.
_REFRESHED = (
    "title", "abstract", "authors", "categories", "primary_category", "doi", "license",
    "result_type",
)  # fmt: skip
_UPDATABLE = [
    *_REFRESHED, "version", "version_history", "announce_date", "announce_type",
    "first_announced", "affiliations_version", "updated", "updated_at",
]  # fmt: skip


@dataclass
class StoreOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    skipped: list[RecordProblem] = field(default_factory=list)


def _moment(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _version_row(paper: Paper, preprint: Preprint | None, day: dt.date | None) -> PaperVersion:
    """A version's row: the paper's held version (no `preprint`), or the one read now."""
    if preprint is None:
        return PaperVersion(
            paper=paper, version=paper.version, announce_date=paper.announce_date,
            announce_type=paper.announce_type, title=paper.title, abstract=paper.abstract,
        )  # fmt: skip
    return PaperVersion(
        paper=paper, version=preprint.version, announce_date=day,
        announce_type=paper.announce_type, title=preprint.fields["title"],
        abstract=preprint.fields["abstract"],
    )  # fmt: skip


def _new_paper(versions: list[Preprint], day: dt.date) -> Paper:
    latest = versions[-1]
    first_seen = versions[0]
    return Paper(
        arxiv_id=latest.doi,
        version=latest.version,
        version_history=[p.version for p in versions[:-1]],
        announce_date=day,
        announce_type=AnnounceType.NEW if first_seen.version == 1 else AnnounceType.REPLACE,
        first_announced=day,
        affiliations_version=latest.version,  # the record's institution is all there is
        published=_moment(first_seen.posted) if first_seen.version == 1 else None,
        updated=_moment(latest.posted),
        **latest.fields,
    )


def _paper_apply(paper: Paper, versions: list[Preprint], day: dt.date) -> str:
    """Bring a held paper up to the latest version read: "updated", "unchanged" or "withdrawn"."""
    latest = versions[-1]
    if latest.version < paper.version:
        return "unchanged"  # an earlier window read again
    if latest.withdrawn:
        if paper.result_type == ResultType.WITHDRAWN and paper.announce_date is None:
            return "unchanged"
        paper.version_history = sorted({*paper.version_history, paper.version} - {latest.version})
        paper.version = latest.version
        paper.result_type = ResultType.WITHDRAWN
        paper.announce_date, paper.announce_type, paper.first_announced = None, "", None
        return "withdrawn"
    fields = {name: latest.fields[name] for name in _REFRESHED}
    # Held only as a reader's seed (no day yet): this window is its first announcement.
    seed_only = paper.announce_date is None and paper.result_type != ResultType.WITHDRAWN
    if latest.version == paper.version:
        if not seed_only and all(getattr(paper, name) == value for name, value in fields.items()):
            return "unchanged"
    else:
        paper.version_history = sorted({*paper.version_history, paper.version})
        paper.version = latest.version
        paper.affiliations_version = latest.version
        paper.updated = _moment(latest.posted)
        paper.first_announced = paper.first_announced or day
        if paper.announce_date is None or paper.announce_date <= day:
            paper.announce_date, paper.announce_type = day, AnnounceType.REPLACE
    if seed_only:
        paper.announce_date = paper.first_announced = day
        paper.announce_type = AnnounceType.NEW if versions[0].version == 1 else AnnounceType.REPLACE
    for name, value in fields.items():
        setattr(paper, name, value)
    return "updated"


@transaction.atomic
def preprints_upsert(*, by_doi: dict[str, list[Preprint]], day: dt.date) -> StoreOutcome:
    """Store the window's preprints (each DOI's versions, oldest first) as papers of `day`."""
    outcome = StoreOutcome()
    held = Paper.objects.select_for_update().in_bulk(list(by_doi), field_name="arxiv_id")
    new: list[Paper] = []
    changed: list[Paper] = []
    replaced: list[PaperVersion] = []
    now = timezone.now()
    for doi, versions in by_doi.items():
        paper = held.get(doi)
        if paper is None:
            if versions[-1].withdrawn:
                outcome.withdrawn += 1  # never held, never shown
                continue
            new.append(_new_paper(versions, day))
            outcome.created += 1
            continue
        previous = _version_row(paper, None, None)
        result = _paper_apply(paper, versions, day)
        if result == "unchanged":
            outcome.unchanged += 1
            continue
        if paper.version != previous.version:
            replaced.append(previous)
        outcome.withdrawn += result == "withdrawn"
        outcome.updated += result == "updated"
        paper.updated_at = now
        changed.append(paper)
    try:
        with transaction.atomic():  # the fast way first: the whole window in a few statements
            Paper.objects.bulk_create(new, batch_size=500)
            Paper.objects.bulk_update(changed, _UPDATABLE, batch_size=500)
    except RECORD_ERRORS as error:
        log.warning("a window of preprints was refused (%s): storing them one by one", error)
        papers_save_each(new, changed, outcome, updatable=_UPDATABLE, what="preprint")
    if new and new[0].pk is None:  # a database whose bulk insert returns no keys
        ids = dict(
            Paper.objects.filter(arxiv_id__in=[p.arxiv_id for p in new]).values_list(
                "arxiv_id", "pk"
            )
        )
        for paper in new:
            paper.pk = ids.get(paper.arxiv_id)
    stored = [p for p in [*new, *changed] if p.pk is not None]
    rows = [r for r in replaced if r.paper.pk is not None]
    for paper in stored:
        if paper.announce_date == day:
            rows += [_version_row(paper, v, day) for v in by_doi[paper.arxiv_id]]
    PaperVersion.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return outcome
