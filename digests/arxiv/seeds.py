"""Seed papers: the example papers a reader gives, fetched from arXiv by id when we lack them.

A seed that is not in the database is looked up with the `arxiv` package through ingestion's
client (`ingest.arxiv_client`: one paced, time-limited session, `polite_retry` on transient
failures), API_BATCH ids a request. What arXiv has is kept as a `Paper` with no announce date
and no announce type, so it belongs to no announcement day (see `Paper`); what arXiv does not
know is remembered in the cache for a while, so the profile editor can say so and the daily run
does not ask again every day. Lookups run off the request path: `tasks.seeds_lookup`, queued
when a profile is saved or imported, and `seeds_missing_fetch` before the day's digests.
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
from digests.ingest import API_BATCH, _paper_fields, arxiv_client
from digests.models import Paper
from subscribers.models import InterestProfile, Subscriber

__all__ = [
    "SeedReport",
    "SeedState",
    "SeedStatus",
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
    MISSING = "missing"  # arXiv has no paper of that id
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
    asked: int = 0  # seeds we did not hold, looked up on arXiv
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    api_requests: int = 0

    def summary(self) -> str:
        return (
            f"seed papers: {self.asked} looked up, {len(self.found)} found, "
            f"{len(self.missing)} not on arXiv ({self.api_requests} API requests)"
        )


def seed_ids(values: Iterable[str]) -> list[str]:
    """arXiv ids without their version, each once, in the order given."""
    return list(dict.fromkeys(_VERSION.sub("", v.strip()) for v in values if v.strip()))


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
    recheck_after: float | None = None,
) -> SeedReport:
    """Fetch from arXiv the seeds we do not hold, in batches; keep what is found.

    `recheck_after` (seconds): leave out the seeds found missing more recently than that.
    Raises `ArxivUnavailable` when arXiv keeps failing; the batches already stored stay.
    """
    ids = seed_ids(values)
    held = set(Paper.objects.filter(arxiv_id__in=ids).values_list("arxiv_id", flat=True))
    wanted = [i for i in ids if i not in held]
    if wanted and recheck_after is not None:
        checked = cache.get_many([_missing_key(i) for i in wanted])
        now = time.time()
        wanted = [i for i in wanted if now - checked.get(_missing_key(i), 0) >= recheck_after]
    report = SeedReport(asked=len(wanted))
    if not wanted:
        return report
    session = session or PoliteSession()
    client = arxiv_client(session)
    before = session.request_count
    try:
        for start in range(0, len(wanted), API_BATCH):
            batch = wanted[start : start + API_BATCH]
            kept = set(_store(_batch_fetch(client, batch)))
            missing = [i for i in batch if i not in kept]
            cache.delete_many([_missing_key(i) for i in kept])
            cache.set_many({_missing_key(i): time.time() for i in missing}, MISSING_MEMORY)
            report.found.extend(i for i in batch if i in kept)
            report.missing.extend(missing)
    finally:
        report.api_requests = session.request_count - before
    return report


def seeds_missing_fetch(*, session: PoliteSession | None = None) -> SeedReport:
    """Before the day's digests: every active reader's seeds we lack, looked up on arXiv.

    A seed arXiv did not have in the last RECHECK_AFTER seconds is not asked for again yet.
    An unreachable arXiv is logged: the digests go out with the seeds we hold.
    """
    profiles = InterestProfile.objects.filter(subscriber__status=Subscriber.Status.ACTIVE)
    seeds = [s for listed in profiles.values_list("seed_papers", flat=True) for s in listed]
    try:
        report = seeds_fetch(seeds, session=session, recheck_after=RECHECK_AFTER)
    except ArxivUnavailable as error:
        log.warning("seed papers not looked up, arXiv is unavailable: %s", error)
        return SeedReport()
    if report.asked:
        log.info("%s", report.summary())
    return report
