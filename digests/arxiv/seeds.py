"""Seed papers: the example papers a reader gives, fetched from arXiv by id when we lack them.

A seed that is not in the database is looked up with the `arxiv` package through ingestion's
client (`ingest.arxiv_client`: one paced, time-limited session, `polite_retry` on transient
failures), API_BATCH ids a request. What arXiv has is kept as a `Paper` with no announce date
and no announce type, so it belongs to no announcement day (see `Paper`); what arXiv does not
know is remembered in the cache for a while, so the profile editor can say so and the daily run
does not ask again every day. Lookups run off the request path: `tasks.seeds_lookup`, queued
when a profile is saved or imported, and `seeds_missing_fetch` before the day's digests.
A seed may also be a bioRxiv or medRxiv DOI (`10.1101/…`): it is looked up on those servers
instead (`digests.biorxiv.seeds`), and kept and remembered the same way.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import arxiv
from django.core.cache import cache

from digests.arxiv.client import ArxivUnavailable, PoliteSession, polite_retry
from digests.biorxiv.client import BiorxivSession, BiorxivUnavailable
from digests.biorxiv.seeds import preprint_doi, preprint_seeds_fetch
from digests.ingest import API_BATCH, _paper_fields, arxiv_client
from digests.models import Paper
from subscribers.models import InterestProfile, Subscriber

__all__ = [
    "SeedReport",
    "SeedState",
    "SeedStatus",
    "seed_id",
    "seed_ids",
    "seeds_fetch",
    "seeds_missing_fetch",
    "seeds_status",
]

log = logging.getLogger(__name__)

MISSING_MEMORY = 30 * 24 * 3600  # seconds "not found on arXiv" is remembered
RECHECK_AFTER = 20 * 3600  # the daily run asks arXiv again for a seed not found this long ago
_VERSION = re.compile(r"v\d+$")
_ENTRY_ID = re.compile(r"/abs/(?P<id>.+?)v(?P<v>\d+)$")


class SeedState:
    FOUND = "found"
    MISSING = "missing"  # arXiv (or, for a DOI, bioRxiv and medRxiv) has no paper of that id
    PENDING = "pending"  # not looked up yet


@dataclass(frozen=True)
class SeedStatus:
    arxiv_id: str
    state: str  # a SeedState
    title: str = ""  # the paper's title, when found

    def as_json(self) -> dict[str, str]:
        return {"arxiv_id": self.arxiv_id, "state": self.state, "title": self.title}


@dataclass
class SeedReport:
    asked: int = 0  # seeds we did not hold, looked up on arXiv (DOIs on bioRxiv/medRxiv)
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    api_requests: int = 0

    def summary(self) -> str:
        return (
            f"seed papers: {self.asked} looked up, {len(self.found)} found, "
            f"{len(self.missing)} not found ({self.api_requests} API requests)"
        )


def seed_id(value: str) -> str:
    """An arXiv id without its version; a preprint DOI also in lower case (DOIs ignore case)."""
    text = value.strip()
    return _VERSION.sub("", text.lower() if preprint_doi(text.lower()) else text)


def seed_ids(values: Iterable[str]) -> list[str]:
    """arXiv ids and preprint DOIs without their version, each once, in the order given."""
    return list(dict.fromkeys(seed_id(v) for v in values if v.strip()))


def _missing_key(arxiv_id: str) -> str:
    return f"seeds:missing:{arxiv_id}"


def seeds_status(values: Iterable[str]) -> list[SeedStatus]:
    """What the editor says of each seed: found (with its title), not on arXiv, or pending.

    One query for the papers we hold, one cache read for the rest; nothing when no seed.
    """
    ids = seed_ids(values)
    if not ids:
        return []
    titles = dict(Paper.objects.filter(arxiv_id__in=ids).values_list("arxiv_id", "title"))
    unknown = [i for i in ids if i not in titles]
    missing = cache.get_many([_missing_key(i) for i in unknown]) if unknown else {}
    statuses = []
    for arxiv_id in ids:
        if arxiv_id in titles:
            statuses.append(SeedStatus(arxiv_id, SeedState.FOUND, titles[arxiv_id]))
        elif _missing_key(arxiv_id) in missing:
            statuses.append(SeedStatus(arxiv_id, SeedState.MISSING))
        else:
            statuses.append(SeedStatus(arxiv_id, SeedState.PENDING))
    return statuses


def _batch_fetch(client: arxiv.Client, batch: list[str]) -> list[arxiv.Result]:
    """One API request for these ids (more only if arXiv pages them); what arXiv has of them."""

    @polite_retry()
    def fetch() -> list[arxiv.Result]:
        found: list[arxiv.Result] = []
        try:
            for result in client.results(arxiv.Search(id_list=batch, max_results=len(batch))):
                found.append(result)
        except arxiv.UnexpectedEmptyPageError:
            pass  # arXiv may count an unknown id in totalResults, then have no page for it
        return found

    try:
        return fetch()
    except arxiv.HTTPError as error:
        if error.status != 400 or len(batch) == 1:
            if error.status == 400:
                return []  # arXiv refuses the id itself: not a paper it has
            raise
    # One id arXiv refuses fails the whole request: ask for each alone.
    return [result for arxiv_id in batch for result in _batch_fetch(client, [arxiv_id])]


def _store(results: list[arxiv.Result]) -> list[str]:
    """Keep what arXiv sent as papers of no announcement day; the ids kept."""
    papers: dict[str, Paper] = {}
    for result in results:
        match = _ENTRY_ID.search(result.entry_id)
        if match is None:
            continue
        papers[match.group("id")] = Paper(
            arxiv_id=match.group("id"),
            version=int(match.group("v")),
            announce_date=None,
            announce_type="",
            **_paper_fields(result),
        )
    # A paper ingested (or fetched by another worker) meanwhile stays as it is.
    Paper.objects.bulk_create(papers.values(), ignore_conflicts=True)
    return list(papers)


def seeds_fetch(
    values: Iterable[str],
    *,
    session: PoliteSession | None = None,
    biorxiv_session: BiorxivSession | None = None,
    recheck_after: float | None = None,
) -> SeedReport:
    """Fetch from arXiv the seeds we do not hold, in batches; keep what is found.

    `recheck_after` (seconds): leave out the seeds found missing more recently than that.
    Preprint DOIs are asked of bioRxiv/medRxiv (`biorxiv_session`), after arXiv's ids.
    Raises `ArxivUnavailable` or `BiorxivUnavailable` when that API keeps failing; what was
    already stored stays.
    """
    ids = seed_ids(values)
    held = set(Paper.objects.filter(arxiv_id__in=ids).values_list("arxiv_id", flat=True))
    wanted = [i for i in ids if i not in held]
    if wanted and recheck_after is not None:
        checked = cache.get_many([_missing_key(i) for i in wanted])
        now = time.time()
        wanted = [i for i in wanted if now - checked.get(_missing_key(i), 0) >= recheck_after]
    report = SeedReport(asked=len(wanted))
    dois = [i for i in wanted if preprint_doi(i)]
    wanted = [i for i in wanted if not preprint_doi(i)]
    if wanted:
        _arxiv_seeds_fetch(wanted, session or PoliteSession(), report)
    if dois:
        biorxiv_session = biorxiv_session or BiorxivSession()
        before = biorxiv_session.request_count
        try:
            preprints = preprint_seeds_fetch(dois, session=biorxiv_session)
        finally:
            report.api_requests += biorxiv_session.request_count - before
        _remember(preprints.found, preprints.missing)
        report.found.extend(preprints.found)
        report.missing.extend(preprints.missing)
    return report


def _remember(found: list[str], missing: list[str]) -> None:
    """What the editor says, and when the daily run may ask again, of seeds looked up."""
    cache.delete_many([_missing_key(i) for i in found])
    cache.set_many({_missing_key(i): time.time() for i in missing}, MISSING_MEMORY)


def _arxiv_seeds_fetch(wanted: list[str], session: PoliteSession, report: SeedReport) -> None:
    client = arxiv_client(session)
    before = session.request_count
    try:
        for start in range(0, len(wanted), API_BATCH):
            batch = wanted[start : start + API_BATCH]
            kept = set(_store(_batch_fetch(client, batch)))
            missing = [i for i in batch if i not in kept]
            _remember(list(kept), missing)
            report.found.extend(i for i in batch if i in kept)
            report.missing.extend(missing)
    finally:
        report.api_requests += session.request_count - before


def seeds_missing_fetch(
    *, session: PoliteSession | None = None, biorxiv_session: BiorxivSession | None = None
) -> SeedReport:
    """Before the day's digests: every active reader's seeds we lack, looked up on arXiv.

    A seed arXiv did not have in the last RECHECK_AFTER seconds is not asked for again yet.
    An unreachable arXiv is logged: the digests go out with the seeds we hold.
    """
    profiles = InterestProfile.objects.filter(subscriber__status=Subscriber.Status.ACTIVE)
    seeds = [s for listed in profiles.values_list("seed_papers", flat=True) for s in listed]
    try:
        report = seeds_fetch(
            seeds, session=session, biorxiv_session=biorxiv_session, recheck_after=RECHECK_AFTER
        )
    except (ArxivUnavailable, BiorxivUnavailable) as error:
        log.warning("seed papers not looked up, their server is unavailable: %s", error)
        return SeedReport()
    if report.asked:
        log.info("%s", report.summary())
    return report
