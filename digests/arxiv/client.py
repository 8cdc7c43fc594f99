"""Polite HTTP to arXiv: one session, a pause between any two requests, timeouts, retries.

arXiv asks for at most one request every 3 seconds from all of a client's machines together,
so the time of the last request is kept in Django's cache: with a shared cache (Redis,
`CACHE_URL`) every worker waits its turn; with the default local-memory cache, each process does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import requests
from django.conf import settings
from django.core.cache import cache
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

__all__ = ["ArxivUnavailable", "PoliteSession", "Throttle", "is_transient", "polite_retry"]

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = (10, 60)  # connect, read: a hung connection must not hold a worker
USER_AGENT = "arxiv-digest/0.1 (daily digest e-mails; polite client)"
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
BACKOFF_INITIAL = 1.0  # seconds before the first retry; doubles each time, with jitter


class ArxivUnavailable(Exception):
    """arXiv kept failing after every retry; what was stored stays stored."""


class Throttle:
    """At least `delay` seconds between two requests, across every process sharing the cache."""

    LOCK_KEY = "arxiv:throttle:lock"
    LAST_KEY = "arxiv:throttle:last"

    def __init__(self, delay: float, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.delay = delay
        self.sleep = sleep

    def wait(self) -> None:
        if self.delay <= 0:
            return
        while not cache.add(self.LOCK_KEY, 1, timeout=30):  # expires if a holder dies
            self.sleep(0.05)
        try:
            last = cache.get(self.LAST_KEY)
            if last is not None:
                pause = last + self.delay - time.time()
                if pause > 0:
                    self.sleep(pause)
            cache.set(self.LAST_KEY, time.time(), timeout=max(60, int(self.delay) + 60))
        finally:
            cache.delete(self.LOCK_KEY)


class PoliteSession(requests.Session):
    """A requests session whose every request waits its turn and has a timeout."""

    def __init__(self, throttle: Throttle | None = None) -> None:
        super().__init__()
        self.throttle = throttle or Throttle(settings.ARXIV_REQUEST_DELAY)
        self.headers["User-Agent"] = USER_AGENT
        self.request_count = 0

    def request(self, method: str, url: str, *args, **kwargs) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        self.throttle.wait()
        self.request_count += 1
        return super().request(method, url, *args, **kwargs)


def is_transient(error: BaseException) -> bool:
    """429, 5xx, timeouts and refused connections are worth another try; the rest is not."""
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return error.response.status_code in TRANSIENT_STATUSES
    status = getattr(error, "status", None)  # arxiv.HTTPError
    if isinstance(status, int):
        return status in TRANSIENT_STATUSES
    return isinstance(error, (requests.Timeout, requests.ConnectionError))


def _give_up(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    raise ArxivUnavailable(
        f"arXiv did not answer after {state.attempt_number} tries: {error}"
    ) from error


def polite_retry(attempts: int = 5, max_wait: float = 60.0):
    """Retry transient failures with exponential backoff and jitter, then ArxivUnavailable."""
    return retry(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(
            multiplier=BACKOFF_INITIAL, jitter=BACKOFF_INITIAL, max=max_wait
        ),
        retry_error_callback=_give_up,
        before_sleep=lambda s: log.warning(
            "arXiv request failed (try %d), retrying: %s",
            s.attempt_number,
            s.outcome.exception() if s.outcome else "",
        ),
        reraise=False,
    )
