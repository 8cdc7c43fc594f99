"""The readers' libraries on arXiv: journal DOIs resolved to arXiv papers, and the papers fetched.

An entry with a DOI and no arXiv id may have a version on arXiv: arXiv's API searches titles,
not DOIs, so TITLE_BATCH titles go in one query (`ti:"…" OR ti:"…"`) through ingestion's paced,
retried client, and a result counts only when its DOI is the entry's or its title is the same
words; the entry then becomes that arXiv paper, else it stays text. The papers of the entries
that shape a profile (`library_seeds`) are fetched as seed papers, so their categories count.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import arxiv

from digests.arxiv.client import ArxivUnavailable, PoliteSession, polite_retry
from digests.arxiv.seeds import _ENTRY_ID, _store, seeds_fetch
from digests.ingest import arxiv_client
from subscribers.library import LibraryEntry, LookupUnavailable, library_seeds, title_key

__all__ = ["TITLE_BATCH", "LookupReport", "library_lookup", "library_lookup_now"]

log = logging.getLogger(__name__)

TITLE_BATCH = 10  # titles per API request: the query stays a few hundred characters
TITLE_WORDS = 14  # a title's first words make its phrase; enough to tell papers apart


@dataclass
class LookupReport:
    asked: int = 0  # entries with a DOI looked up
    resolved: int = 0  # of them found on arXiv
    api_requests: int = 0

    def summary(self) -> str:
        return (
            f"library: {self.asked} DOIs looked up on arXiv, {self.resolved} found "
            f"({self.api_requests} API requests)"
        )


def _phrase(title: str) -> str:
    return " ".join(title_key(title).split()[:TITLE_WORDS])


def _search(client: arxiv.Client, phrases: list[str]) -> list[arxiv.Result]:
    query = " OR ".join(f'ti:"{p}"' for p in phrases)

    @polite_retry()
    def fetch() -> list[arxiv.Result]:
        try:
            return list(client.results(arxiv.Search(query=query, max_results=3 * len(phrases))))
        except arxiv.UnexpectedEmptyPageError:
            return []

    return fetch()


def _match(entry: LibraryEntry, results: list[arxiv.Result]) -> arxiv.Result | None:
    words = title_key(entry.title)
    for result in results:
        if entry.doi and (result.doi or "").lower() == entry.doi:
            return result
    return next((r for r in results if title_key(r.title) == words), None)


def library_lookup(
    *,
    subscriber_ids: Iterable[int] | None = None,
    session: PoliteSession | None = None,
    progress: Callable[[int], None] | None = None,
) -> LookupReport:
    """Resolve the libraries' DOIs on arXiv (of these readers, or everyone's), then fetch the
    arXiv papers that shape their profiles. `progress` is told how many entries each batch did.

    Raises `ArxivUnavailable` when arXiv keeps failing; the batches done stay done.
    """
    ids = None if subscriber_ids is None else list(subscriber_ids)
    pending = LibraryEntry.objects.filter(state=LibraryEntry.State.LOOKUP)
    if ids is not None:
        pending = pending.filter(subscriber_id__in=ids)
    entries = list(pending.order_by("pk"))
    report = LookupReport(asked=len(entries))
    session = session or PoliteSession()
    client = arxiv_client(session)
    before = session.request_count
    by_phrase: dict[str, list[LibraryEntry]] = {}
    for entry in entries:
        by_phrase.setdefault(_phrase(entry.title), []).append(entry)
    phrases = [p for p in by_phrase if p]
    try:
        for start in range(0, len(phrases), TITLE_BATCH):
            batch = phrases[start : start + TITLE_BATCH]
            results = _search(client, batch)
            _store(results)
            for phrase in batch:
                for entry in by_phrase[phrase]:
                    _settle(entry, _match(entry, results), report)
            if progress:
                progress(sum(len(by_phrase[p]) for p in batch))
        for entry in by_phrase.get("", []):  # no title to search by
            _settle(entry, None, report)
        seeds = library_seeds({e.subscriber_id for e in entries} if ids is None else ids)
        wanted = [s.arxiv_id for listed in seeds.values() for s in listed if s.arxiv_id]
        seeds_fetch(wanted, session=session)
    finally:
        report.api_requests = session.request_count - before
    return report


def _settle(entry: LibraryEntry, result: arxiv.Result | None, report: LookupReport) -> None:
    match = _ENTRY_ID.search(result.entry_id) if result is not None else None
    if match is None:
        entry.state = LibraryEntry.State.TEXT
        entry.save(update_fields=["state"])
        return
    report.resolved += 1
    entry.state = LibraryEntry.State.ARXIV
    entry.arxiv_id = match.group("id")
    entry.save(update_fields=["state", "arxiv_id"])


def library_lookup_now(**kwargs: object) -> LookupReport:
    """`library_lookup` for the reader's side (the command), which knows no arXiv errors."""
    try:
        return library_lookup(**kwargs)  # type: ignore[arg-type]
    except ArxivUnavailable as error:
        raise LookupUnavailable(str(error)) from error
