"""One arXiv record on its way to the database: every upstream field validated or bounded.

arXiv's records are written by authors: a DOI field can hold a sentence, a comment a page, a
date nonsense. Each field is checked against what the model holds (lengths, formats, plausible
dates) and bounded or dropped, saying which; a record that still fails to store is skipped on
its own (a savepoint per record), its reason recorded, and the day's other papers stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol

import arxiv
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from digests.models import Paper, PaperVersion
from digests.text import clean_text

__all__ = [
    "Announcement",
    "RecordError",
    "RecordProblem",
    "UpsertOutcome",
    "authors_merged",
    "name_key",
    "paper_fields",
    "papers_save_each",
    "papers_upsert",
    "versioned_id_split",
]

log = logging.getLogger(__name__)

# Bounds a real record never reaches (the longest arXiv title is ~300 characters, abstracts are
# capped at 1,920, collaborations list ~3,000 authors): past them it is junk, cut.
MAX_TITLE = 1000
MAX_ABSTRACT = 10_000
MAX_COMMENT = 2000
MAX_JOURNAL_REF = 1000
MAX_NAME = 300
MAX_AUTHORS = 5000
MAX_AFFILIATIONS = 20
MAX_CATEGORIES = 20
DOI_MAX = Paper._meta.get_field("doi").max_length or 255
CATEGORY_MAX = Paper._meta.get_field("primary_category").max_length or 32
ID_MAX = Paper._meta.get_field("arxiv_id").max_length or 32
VERSION_MAX = 32767  # PositiveSmallIntegerField
FIRST_DAY = dt.datetime(1991, 8, 1, tzinfo=dt.UTC)  # arXiv's first paper

_VERSIONED_ID = re.compile(
    r"(?P<id>(?:[a-z-]{1,20}(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5}))v(?P<v>\d{1,5})$"
)
_CATEGORY = re.compile(r"^[a-z-]{1,16}(?:\.[A-Za-z-]{1,12})?$")
_DOI = re.compile(r"^10\.\d{4,9}/\S{1,200}$")


class RecordError(ValueError):
    """The record cannot be stored at all (no usable id, no title)."""


@dataclass(frozen=True)
class Announcement:
    arxiv_id: str
    version: int
    announce_type: str


@dataclass(frozen=True)
class RecordProblem:
    """A field bounded or dropped (`field` set), or a record skipped (`field` empty)."""

    arxiv_id: str
    reason: str
    field: str = ""

    def as_json(self) -> dict[str, str]:
        row = {"arxiv_id": self.arxiv_id, "reason": self.reason}
        return {**row, "field": self.field} if self.field else row


@dataclass
class UpsertOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[RecordProblem] = dataclasses.field(default_factory=list)
    repaired: list[RecordProblem] = dataclasses.field(default_factory=list)


def versioned_id_split(raw: str) -> tuple[str, int]:
    """ "2606.12345v2" (or a URL / OAI id ending so) → ("2606.12345", 2); ValueError otherwise."""
    match = _VERSIONED_ID.search(raw.strip()[-200:])
    if (
        not match
        or len(match.group("id")) > ID_MAX
        or not 1 <= int(match.group("v")) <= VERSION_MAX
    ):
        raise RecordError(f"not an arXiv id with a version: {raw[:80]!r}")
    return match.group("id"), int(match.group("v"))


def _bounded(text: str | None, limit: int, name: str, problems: list[tuple[str, str]]) -> str:
    cleaned = clean_text(text)
    if len(cleaned) <= limit:
        return cleaned
    problems.append((name, f"{len(cleaned)} characters, cut to {limit}"))
    return cleaned[: limit - 1].rstrip() + "…"


def _doi(raw: str | None, problems: list[tuple[str, str]]) -> str:
    """The record's DOIs (arXiv allows several, space-separated) if each looks like one."""
    text = clean_text(raw)
    if not text:
        return ""
    dois = text.split()
    if len(text) > DOI_MAX or not all(_DOI.match(doi) for doi in dois):
        problems.append(("doi", f"not a DOI ({len(text)} characters): dropped"))
        return ""
    return text


def _moment(value: Any, name: str, problems: list[tuple[str, str]]) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        problems.append((name, f"not a date: {str(value)[:40]!r}, dropped"))
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if not FIRST_DAY <= value <= timezone.now() + dt.timedelta(days=7):
        problems.append((name, f"implausible date {value:%Y-%m-%d}, dropped"))
        return None
    return value


def _categories(result: arxiv.Result, problems: list[tuple[str, str]]) -> tuple[list[str], str]:
    given = [str(c) for c in result.categories or []]
    valid = [c for c in given if len(c) <= CATEGORY_MAX and _CATEGORY.match(c)]
    valid = list(dict.fromkeys(valid))[:MAX_CATEGORIES]
    if len(valid) != len(given):
        problems.append(("categories", f"{len(given) - len(valid)} invalid or extra dropped"))
    primary = str(result.primary_category or "")
    if primary and (len(primary) > CATEGORY_MAX or not _CATEGORY.match(primary)):
        problems.append(("primary_category", "not a category: dropped"))
        primary = ""
    return valid, primary or (valid[0] if valid else "")


def _authors(result: arxiv.Result, problems: list[tuple[str, str]]) -> list[dict]:
    authors = []
    for author in list(result.authors or [])[:MAX_AUTHORS]:
        name = _bounded(author.name, MAX_NAME, "authors", problems)
        if not name:
            continue
        affiliations = [
            _bounded(a, MAX_NAME, "authors", problems)
            for a in list(author.affiliation or [])[:MAX_AFFILIATIONS]
        ]
        authors.append({"name": name, "affiliations": [a for a in affiliations if a]})
    if len(result.authors or []) > MAX_AUTHORS:
        problems.append(("authors", f"{len(result.authors)} authors, cut to {MAX_AUTHORS}"))
    return authors


def paper_fields(
    result: arxiv.Result, *, arxiv_id: str = "", require_title: bool = True
) -> tuple[dict, list[RecordProblem]]:
    """The API record as Paper fields, each bounded to what the model holds, and what was cut.

    Raises RecordError when nothing usable is left (no title, when `require_title`)."""
    problems: list[tuple[str, str]] = []
    categories, primary = _categories(result, problems)
    fields = {
        "title": _bounded(result.title, MAX_TITLE, "title", problems),
        "abstract": _bounded(result.summary, MAX_ABSTRACT, "abstract", problems),
        "authors": _authors(result, problems),
        "categories": categories,
        "primary_category": primary,
        "comment": _bounded(result.comment, MAX_COMMENT, "comment", problems),
        "journal_ref": _bounded(result.journal_ref, MAX_JOURNAL_REF, "journal_ref", problems),
        "doi": _doi(result.doi, problems),
        "published": _moment(result.published, "published", problems),
        "updated": _moment(result.updated, "updated", problems),
    }
    if require_title and not fields["title"]:
        raise RecordError("the record has no title")
    seen: dict[tuple[str, str], None] = dict.fromkeys(problems)  # one line per kind of cut
    return fields, [RecordProblem(arxiv_id, reason, name) for name, reason in seen]


def name_key(name: str) -> str:
    """An author's name as compared across records and pages: case, dots and spaces ignored."""
    return " ".join(name.lower().replace(".", " ").split())


def authors_merged(held: list[dict], fresh: list[dict]) -> list[dict]:
    """The record's authors, each keeping the affiliations we hold for that name when the
    record gives none (the API rarely has them; they came from the paper's page)."""
    known = {name_key(a["name"]): a.get("affiliations", []) for a in held}
    return [
        a if a.get("affiliations") else {**a, "affiliations": known.get(name_key(a["name"]), [])}
        for a in fresh
    ]


def _has_affiliations(authors: list[dict]) -> bool:
    return any(a.get("affiliations") for a in authors)


def _paper_apply(paper: Paper, announcement: Announcement, fields: dict, day: dt.date) -> str:
    """Bring an existing row up to date; return "updated" or "unchanged".

    The first announcement day never moves; `announce_date` (the latest one) never goes back,
    and affiliations held are kept when the record has none (see `authors_merged`)."""
    if _has_affiliations(fields["authors"]):
        fields["affiliations_version"] = announcement.version
    fields["authors"] = authors_merged(paper.authors, fields["authors"])
    fields["first_announced"] = min(paper.first_announced or day, day)
    if paper.announce_date is not None and paper.announce_date > day:
        fields["announce_date"], fields["announce_type"] = paper.announce_date, paper.announce_type
    if announcement.version > paper.version:
        paper.version_history = [*paper.version_history, paper.version]
        paper.version = announcement.version
    elif all(getattr(paper, name) == value for name, value in fields.items()):
        return "unchanged"
    for name, value in fields.items():
        setattr(paper, name, value)
    return "updated"


_UPDATABLE = [
    "version", "version_history", "title", "abstract", "authors", "categories",
    "primary_category", "comment", "journal_ref", "doi", "published", "updated",
    "announce_date", "announce_type", "first_announced", "affiliations_version", "updated_at",
]  # fmt: skip
# What one record can make the database refuse; a lost connection is not among them (it
# fails the day, which is tried again).
RECORD_ERRORS = (DataError, IntegrityError, ValueError)


class _Counted(Protocol):
    created: int
    updated: int
    skipped: list[RecordProblem]


def papers_save_each(
    new: list[Paper], changed: list[Paper], outcome: _Counted, *, updatable: list[str], what: str
) -> None:
    """Store the rows one by one, each in its own savepoint: one refused row is skipped, said
    (`what` a record is, in the log) and left without a key; the others are stored."""
    for paper, insert in [*((p, True) for p in new), *((p, False) for p in changed)]:
        try:
            with transaction.atomic():
                if insert:
                    paper.pk, paper._state.adding = None, True
                    paper.save(force_insert=True)
                else:
                    paper.save(update_fields=updatable)
        except RECORD_ERRORS as error:
            reason = f"not stored: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
            log.error("%s %s skipped, %s", what, paper.arxiv_id, reason)
            outcome.skipped.append(RecordProblem(paper.arxiv_id, reason))
            paper.pk = None
            if insert:
                outcome.created -= 1
            else:
                outcome.updated -= 1


@transaction.atomic
def papers_upsert(
    *, announcements: dict[str, Announcement], results: dict[str, arxiv.Result], day: dt.date
) -> UpsertOutcome:
    """Create or update a batch of papers, each version's announcement kept as a
    `PaperVersion`; a record the database refuses is skipped alone."""
    outcome = UpsertOutcome()
    existing = Paper.objects.select_for_update().in_bulk(list(results), field_name="arxiv_id")
    new, changed = [], []
    replaced: list[PaperVersion] = []  # the versions a new one replaces, with their text
    announced: list[tuple[Paper, Announcement]] = []
    now = timezone.now()
    for arxiv_id, result in results.items():
        announcement = announcements[arxiv_id]
        try:
            fields, problems = paper_fields(result, arxiv_id=arxiv_id)
        except RecordError as error:
            outcome.skipped.append(RecordProblem(arxiv_id, str(error)))
            continue
        outcome.repaired.extend(problems)
        fields.update(announce_date=day, announce_type=announcement.announce_type)
        paper = existing.get(arxiv_id)
        announced.append((paper or Paper(arxiv_id=arxiv_id), announcement))
        if paper is None:
            if _has_affiliations(fields["authors"]):
                fields["affiliations_version"] = announcement.version
            paper = Paper(
                arxiv_id=arxiv_id, version=announcement.version, first_announced=day, **fields
            )
            announced[-1] = (paper, announcement)
            new.append(paper)
            outcome.created += 1
            continue
        if announcement.version < paper.version:
            # An earlier day read again: its version's announcement is kept, the paper stays.
            outcome.unchanged += 1
            continue
        if announcement.version > paper.version:
            replaced.append(_version_row(paper))
        if _paper_apply(paper, announcement, fields, day) == "unchanged":
            outcome.unchanged += 1
            continue
        outcome.updated += 1
        paper.updated_at = now
        changed.append(paper)
    try:
        with transaction.atomic():  # the fast way first: the whole batch in two statements
            Paper.objects.bulk_create(new, batch_size=500)
            Paper.objects.bulk_update(changed, _UPDATABLE, batch_size=500)
    except RECORD_ERRORS as error:
        log.warning("a batch of arXiv records was refused (%s): storing them one by one", error)
        papers_save_each(new, changed, outcome, updatable=_UPDATABLE, what="arXiv record")
    skipped = {p.arxiv_id for p in outcome.skipped}
    rows = [r for r in replaced if r.paper.arxiv_id not in skipped]
    for paper, announcement in announced:
        if paper.pk is not None and paper.arxiv_id not in skipped:
            rows.append(_version_row(paper, announcement, day))
    _versions_store(rows)
    return outcome


def _version_row(
    paper: Paper, announcement: Announcement | None = None, day: dt.date | None = None
) -> PaperVersion:
    """The row of the version `announcement` names (on `day`), else of the paper's current one.

    Its text is the paper's only when the paper is at that version (an earlier day read again
    gives a later version's record)."""
    version = announcement.version if announcement else paper.version
    own_text = version == paper.version
    return PaperVersion(
        paper=paper,
        version=version,
        announce_date=day if announcement else paper.announce_date,
        announce_type=announcement.announce_type if announcement else paper.announce_type,
        title=paper.title if own_text else "",
        abstract=paper.abstract if own_text else "",
        comment=paper.comment if own_text else "",
    )


def _versions_store(rows: list[PaperVersion]) -> None:
    """Keep each version's row; a version's first announcement day stays as it was, and one
    held without a day (a seed's, kept at a replacement) gets its day now."""
    if not rows:
        return
    PaperVersion.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    dated = {(r.paper.pk, r.version): r for r in rows if r.announce_date is not None}
    undated = PaperVersion.objects.filter(
        paper__in={r.paper.pk for r in rows}, announce_date__isnull=True
    )
    for held in undated:
        row = dated.get((held.paper_id, held.version))
        if row is not None:
            held.announce_date, held.announce_type = row.announce_date, row.announce_type
            held.save(update_fields=["announce_date", "announce_type"])
