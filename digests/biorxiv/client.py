"""The bioRxiv/medRxiv API over HTTP, as politely as arXiv's: one session, a pause between any
two requests (BIORXIV_REQUEST_DELAY, shared through the cache like arXiv's), timeouts, and
transient failures (429, 5xx, a dropped connection, a body cut short) retried with backoff.

`details/<server>/<from>/<to>/<cursor>` answers pages of 100 records, one per version:
`{"messages": [{"status": "ok", "count": 100, "total": "19585", …}], "collection": […]}`;
`count` and `total` come as numbers or strings; an empty window says so in `status`.
`details/<server>/<DOI>` answers the same shape: every version of one preprint.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from digests.arxiv import client as arxiv_client
from digests.arxiv.client import PoliteSession, Throttle, is_transient

__all__ = [
    "PAGE_SIZE",
    "BiorxivSession",
    "BiorxivUnavailable",
    "Page",
    "PageCutShort",
    "doi_fetch",
    "page_fetch",
    "page_parse",
]

log = logging.getLogger(__name__)

PAGE_SIZE = 100


class BiorxivUnavailable(Exception):
    """The API kept failing after every retry; what was stored stays stored."""


class PageCutShort(ValueError):
    """The body is not a whole JSON page (the connection dropped mid-answer): asked again."""


class BiorxivThrottle(Throttle):
    """bioRxiv's own clock: its pauses do not hold arXiv's requests back, nor the reverse."""

    LOCK_KEY = "biorxiv:throttle:lock"
    LAST_KEY = "biorxiv:throttle:last"


class BiorxivSession(PoliteSession):
    def __init__(self, throttle: Throttle | None = None) -> None:
        super().__init__(throttle or BiorxivThrottle(settings.BIORXIV_REQUEST_DELAY))


@dataclass
class Page:
    """One page of a window: its records (unvalidated) and what the API says of the window."""

    records: list[Any] = field(default_factory=list)
    total: int = 0
    status: str = "ok"


def _number(value: object) -> int:
    """ "19585", 19585 or 19585.0 → 19585; anything else → 0."""
    try:
        return max(0, int(str(value).strip().split(".")[0]))
    except ValueError:
        return 0


def page_parse(body: str) -> Page:
    """One page's JSON (trailing blank lines and escaped slashes are JSON's own business)."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        raise PageCutShort(f"not a whole JSON page ({len(body)} characters): {error}") from None
    if not isinstance(data, dict):
        raise PageCutShort("the page is not a JSON object")
    messages = data.get("messages")
    message = messages[0] if isinstance(messages, list) and messages else {}
    message = message if isinstance(message, dict) else {}
    status = str(message.get("status", "")).strip() or "ok"
    collection = data.get("collection")
    records = collection if isinstance(collection, list) else []
    return Page(records=records, total=_number(message.get("total")), status=status)


def _transient(error: BaseException) -> bool:
    return isinstance(error, PageCutShort) or is_transient(error)


def _give_up(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    raise BiorxivUnavailable(
        f"the bioRxiv API did not answer after {state.attempt_number} tries: {error}"
    ) from error


def page_fetch(
    session: requests.Session,
    *,
    server: str,
    first: dt.date,
    last: dt.date,
    cursor: int,
    attempts: int = 5,
) -> Page:
    """One page of `details/<server>/<first>/<last>/<cursor>`, retried when transient."""
    return _page_get(session, f"{server}/{first}/{last}/{cursor}", attempts=attempts)


def doi_fetch(session: requests.Session, *, server: str, doi: str, attempts: int = 5) -> Page:
    """Every version the server holds of one DOI (`details/<server>/<DOI>`), retried when
    transient; a DOI the server does not hold is an empty page ("no posts found")."""
    return _page_get(session, f"{server}/{doi}", attempts=attempts)


def _page_get(session: requests.Session, path: str, *, attempts: int) -> Page:
    backoff = arxiv_client.BACKOFF_INITIAL  # read now: the same backoff as arXiv's requests
    url = f"{settings.BIORXIV_API_URL.rstrip('/')}/details/{path}"

    @retry(
        retry=retry_if_exception(_transient),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(multiplier=backoff, jitter=backoff, max=60),
        retry_error_callback=_give_up,
        before_sleep=lambda s: log.warning(
            "bioRxiv request failed (try %d), retrying: %s",
            s.attempt_number,
            s.outcome.exception() if s.outcome else "",
        ),
    )
    def fetch() -> Page:
        response = session.get(url)
        response.raise_for_status()
        return page_parse(response.content.decode("utf-8", errors="replace"))

    return fetch()
