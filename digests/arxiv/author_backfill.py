"""An author's papers from the arXiv API's author search, for the author page of anyone.

The author page lists the papers we ingested; an author we hold few papers of (or none) gets
their papers looked up once through the API's `au:` search, with the `arxiv` client on
ingestion's paced, retried session (`PoliteSession`: arXiv's 3 s between requests, shared by
every worker). The search is made for the spellings our author matching lets a follower of the
name meet (`author_keys_followed`: "Yongjin Yang" and "Y. Yang"), and only the results whose
authors match those keys are kept, so "Yi Yang" never joins Yongjin Yang's page. The papers are
kept as `Paper` rows of no announcement day (as seed papers are: in no day's digest or count),
and their ids on the name's `AuthorBackfill` row, so the page lists them without asking again
until REFRESH_AFTER. The lookup runs in a task (`pages.tasks.author_backfill`), never in a
request: the page says "looking up" meanwhile, and that it failed when arXiv did.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from dataclasses import dataclass

import arxiv
import requests
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from digests.arxiv.client import ArxivUnavailable, PoliteSession, polite_retry
from digests.arxiv.records import paper_fields
from digests.ingest import arxiv_client
from digests.models import AuthorBackfill, Paper
from digests.scoring.matching import author_keys_followed, author_keys_written, fold

__all__ = [
    "MAX_PAPERS",
    "BackfillReport",
    "author_backfill_claim",
    "author_backfill_due",
    "author_backfill_fetch",
    "author_backfill_held",
    "author_backfill_unqueued",
    "author_key",
    "author_search_query",
]

log = logging.getLogger(__name__)

MAX_PAPERS = 200  # newest papers kept per author: two API requests at most
REFRESH_AFTER = dt.timedelta(days=7)  # a done lookup is made again after this, on a visit
RETRY_FAILED_AFTER = dt.timedelta(minutes=15)  # a failed one, on a visit after this
PENDING_LOST_AFTER = dt.timedelta(minutes=30)  # a queued lookup no worker took is queued again
_QUERY_WORD = re.compile(r"[^\w'-]+")  # what may stand in an `au:` phrase
_ENTRY_ID = re.compile(r"/abs/(?P<id>.+?)v(?P<v>\d+)$")


@dataclass
class BackfillReport:
    name: str
    found: int = 0  # results arXiv sent
    kept: list[str] | None = None  # arXiv ids of the author's papers
    api_requests: int = 0
    error: str = ""

    def summary(self) -> str:
        if self.error:
            return f"author {self.name!r}: lookup failed: {self.error}"
        return (
            f"author {self.name!r}: {self.found} results, {len(self.kept or [])} kept "
            f"({self.api_requests} API requests)"
        )


def author_key(name: str) -> str:
    """The name as author matching reads it ("yongjin yang", "y yang"); "" for one word."""
    keys = author_keys_followed(name)
    full = [k for k in keys if k.startswith("f:")]
    return (full or sorted(keys) or [""])[0][2:]


def _query_words(name: str) -> tuple[str, str] | None:
    """First and last name as arXiv's search reads them: accents off, quotes and operators out."""
    text = fold(name).replace(".", " ")
    if "," in text:  # "Yang, Yongjin"
        last, _, first = text.partition(",")
        text = f"{first} {last}"
    words = [w for w in (_QUERY_WORD.sub(" ", part).strip() for part in text.split()) if w]
    words = [w for part in words for w in part.split()]
    if len(words) < 2:
        return None
    return words[0], words[-1]


def author_search_query(name: str) -> str:
    """`au:"Yongjin Yang" OR au:"Y Yang"`: the spellings a follower of `name` meets."""
    words = _query_words(name)
    if words is None:
        return ""
    first, last = words
    spellings = [f"{first} {last}"] if len(first) > 1 else []
    spellings.append(f"{first[0]} {last}")
    return " OR ".join(f'au:"{spelling}"' for spelling in spellings)


def _is_theirs(result: arxiv.Result, keys: set[str]) -> bool:
    return any(author_keys_written(a.name) & keys for a in result.authors or [])


def _search(client: arxiv.Client, query: str) -> list[arxiv.Result]:
    @polite_retry()
    def fetch() -> list[arxiv.Result]:
        search = arxiv.Search(
            query=query,
            max_results=MAX_PAPERS,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Descending,
        )
        found: list[arxiv.Result] = []
        # arXiv's count may run past what it pages: keep what came.
        with contextlib.suppress(arxiv.UnexpectedEmptyPageError):
            found.extend(client.results(search))
        return found

    return fetch()


def _store(results: list[arxiv.Result]) -> list[str]:
    """Keep what arXiv sent as papers of no announcement day; the arXiv ids, newest first."""
    papers: dict[str, Paper] = {}
    for result in results:
        match = _ENTRY_ID.search(result.entry_id)
        if match is None or match.group("id") in papers:
            continue
        fields = paper_fields(result, require_title=False)[0]
        papers[match.group("id")] = Paper(
            arxiv_id=match.group("id"),
            version=int(match.group("v")),
            announce_date=None,
            announce_type="",
            **fields,
        )
    # A paper ingested (or stored by another lookup) meanwhile stays as it is.
    Paper.objects.bulk_create(papers.values(), ignore_conflicts=True)
    return list(papers)


def author_backfill_due(row: AuthorBackfill | None, *, now: dt.datetime | None = None) -> bool:
    """Whether a visit should queue a lookup for this row (None: never asked)."""
    if row is None:
        return True
    now = now or timezone.now()
    State = AuthorBackfill.State
    if row.state == State.FAILED:
        return row.requested_at < now - RETRY_FAILED_AFTER
    if row.state == State.DONE:
        return row.fetched_at is None or row.fetched_at < now - REFRESH_AFTER
    return row.requested_at < now - PENDING_LOST_AFTER


def author_backfill_claim(name: str) -> bool:
    """Whether a visit to `name`'s page should queue a lookup now (and mark it queued).

    Once per name until its row is due again: a new name, a failed lookup after
    RETRY_FAILED_AFTER, a done one after REFRESH_AFTER, a queued one no worker took. A
    conditional update claims it, so two visits at once queue one lookup.
    """
    key = author_key(name)
    if not key:
        return False
    now = timezone.now()
    try:
        with transaction.atomic():
            AuthorBackfill.objects.create(key=key, name=name[:200], requested_at=now)
        return True
    except IntegrityError:
        pass
    State = AuthorBackfill.State
    due = (
        Q(state=State.FAILED, requested_at__lt=now - RETRY_FAILED_AFTER)
        | Q(state=State.DONE, fetched_at__lt=now - REFRESH_AFTER)
        | Q(state=State.PENDING, requested_at__lt=now - PENDING_LOST_AFTER)
    )
    claimed = AuthorBackfill.objects.filter(due, key=key).update(
        state=State.PENDING, requested_at=now
    )
    return claimed == 1


def author_backfill_held(name: str) -> AuthorBackfill | None:
    """The lookup row of `name` (any spelling with the same key), if one was ever asked for."""
    key = author_key(name)
    return AuthorBackfill.objects.filter(key=key).first() if key else None


def _short(error: BaseException) -> str:
    """What the page and the row say of a failure: its kind and status, never a URL."""
    status = getattr(error, "status", None)
    if isinstance(error, ArxivUnavailable):
        cause = error.__cause__
        return "arXiv did not answer" + (f" ({_short(cause)})" if cause else "")
    if isinstance(status, int):
        return f"HTTP {status}"
    return type(error).__name__


def author_backfill_fetch(name: str, *, session: PoliteSession | None = None) -> BackfillReport:
    """Look `name`'s papers up on arXiv, keep the ones theirs, and record it on their row.

    A failing arXiv is recorded on the row (the page says so) rather than raised: what was
    held before stays listed.
    """
    report = BackfillReport(name=name)
    key, query = author_key(name), author_search_query(name)
    if not key or not query:
        report.error = "not a name arXiv can search"
        return report
    row, _created = AuthorBackfill.objects.get_or_create(
        key=key, defaults={"name": name[:200], "requested_at": timezone.now()}
    )
    session = session or PoliteSession()
    before = session.request_count
    client = arxiv_client(session)
    try:
        results = _search(client, query)
    except (ArxivUnavailable, arxiv.HTTPError, arxiv.ArxivError, requests.RequestException) as e:
        report.error = _short(e)
        report.api_requests = session.request_count - before
        log.warning("author lookup on arXiv failed: %s", report.error)
        AuthorBackfill.objects.filter(pk=row.pk).update(
            state=AuthorBackfill.State.FAILED,
            error=report.error[:300],
            api_requests=report.api_requests,
        )
        return report
    report.api_requests = session.request_count - before
    report.found = len(results)
    report.kept = _store([r for r in results if _is_theirs(r, author_keys_followed(name))])
    AuthorBackfill.objects.filter(pk=row.pk).update(
        state=AuthorBackfill.State.DONE,
        fetched_at=timezone.now(),
        error="",
        arxiv_ids=report.kept,
        api_requests=report.api_requests,
    )
    return report


def author_backfill_unqueued(name: str, reason: str) -> None:
    """Record that the lookup could not be queued (broker down): the page says it failed."""
    AuthorBackfill.objects.filter(key=author_key(name), state=AuthorBackfill.State.PENDING).update(
        state=AuthorBackfill.State.FAILED, error=reason[:300]
    )
