"""One circuit breaker and one deadline for a day's LLM calls: enrichment, briefs, embeddings.

A hanging or failing LLM must delay the day by minutes, not hours. Every call asks the day's
gate first. After LLM_BREAKER_FAILURES consecutive outages (a call that timed out, found no
server, or kept answering 5xx/429 past its retries) the breaker opens and the rest of the day's
calls are not made; once the day's reading has run LLM_DAY_DEADLINE seconds, no enrichment,
brief or paper-embedding call is made either. The papers not read keep their LLM-less reading
(English, extractive summary): the e-mail says they are untranslated, and a later run reads them.

The state lives in Django's cache: with CACHE_URL (Redis) every process shares one breaker (the
send workers see that enrichment found the LLM down); with the local-memory default, each
process learns it on its own, after the same few failures.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

__all__ = ["DayGate", "LLMUnavailable", "llm_gate", "llm_reading_start"]

log = logging.getLogger(__name__)

STATE_SECONDS = 36 * 3600  # a day's breaker outlives the day's sends, then is forgotten


class LLMUnavailable(Exception):
    """The day's gate is closed (breaker open, or deadline passed): the call was not made."""


def _key(day: dt.date, name: str) -> str:
    return f"llm:gate:{day.isoformat()}:{name}"


@dataclass(frozen=True)
class DayGate:
    """The breaker and deadline of one announcement day's LLM calls.

    `reading`: the calls that read the day (enrichment, briefs, paper embeddings) and so stop
    at its deadline; the readers' interest embeddings at send time only obey the breaker."""

    day: dt.date
    reading: bool = True

    def closed(self) -> str:
        """Why no call may be made now, or "" when calls may go."""
        reason = cache.get(_key(self.day, "open"))
        if reason:
            return str(reason)
        if self.reading and (left := self.remaining()) is not None and left <= 0:
            return (
                f"the day's LLM deadline passed (LLM_DAY_DEADLINE={settings.LLM_DAY_DEADLINE:g} s)"
            )
        return ""

    def check(self) -> None:
        """Raise LLMUnavailable when the gate is closed."""
        reason = self.closed()
        if reason:
            raise LLMUnavailable(reason)

    def remaining(self) -> float | None:
        """Seconds left before the day's reading deadline; None when no reading has started."""
        deadline = cache.get(_key(self.day, "deadline"))
        return None if deadline is None else float(deadline) - time.time()

    def call_timeout(self) -> float:
        """LLM_TIMEOUT, shortened so a call never runs much past the deadline."""
        left = self.remaining() if self.reading else None
        if left is None:
            return float(settings.LLM_TIMEOUT)
        return max(1.0, min(float(settings.LLM_TIMEOUT), left))

    def failure(self, error: str) -> None:
        """Count one outage; the N-th in a row opens the breaker for the rest of the day."""
        key = _key(self.day, "failures")
        cache.add(key, 0, STATE_SECONDS)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, failures := 1, STATE_SECONDS)
        if failures >= settings.LLM_BREAKER_FAILURES and not cache.get(_key(self.day, "open")):
            reason = f"the LLM failed {failures} times in a row (last: {error[:200]})"
            cache.set(_key(self.day, "open"), reason, STATE_SECONDS)
            log.error("LLM circuit breaker open for %s: %s", self.day, reason)

    def success(self) -> None:
        """An answer came: the failures are no longer consecutive."""
        if cache.get(_key(self.day, "failures")):
            cache.set(_key(self.day, "failures"), 0, STATE_SECONDS)


def llm_gate(day: dt.date | None = None, *, reading: bool = True) -> DayGate:
    """The gate of `day` (today by default)."""
    return DayGate(day=day or timezone.now().date(), reading=reading)


def llm_reading_start(*, day: dt.date, renew: bool = True) -> DayGate:
    """Start the day's reading: its deadline from now, and a closed breaker.

    `renew=False` keeps a reading already started (a step called on its own after another)."""
    deadline = time.time() + settings.LLM_DAY_DEADLINE
    key = _key(day, "deadline")
    if renew:
        cache.set(key, deadline, STATE_SECONDS)
        cache.delete_many([_key(day, "open"), _key(day, "failures")])
    else:
        cache.add(key, deadline, STATE_SECONDS)
    return DayGate(day=day)
