"""Celery tasks the public pages queue: thin wrappers around one step each."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from digests.arxiv.author_backfill import (
    author_backfill_claim,
    author_backfill_fetch,
    author_backfill_unqueued,
)
from digests.brief import briefs_write

__all__ = ["author_backfill", "author_backfill_queue", "topic_brief", "topic_brief_queue"]

log = logging.getLogger(__name__)

BRIEF_ASK_EVERY = 3600  # seconds between two tries at one topic's brief of a day and language


@shared_task
def author_backfill(name: str) -> str:
    """Look an author's papers up on arXiv (a failure is recorded on their row, not retried)."""
    return author_backfill_fetch(name).summary()


def author_backfill_queue(name: str) -> bool:
    """Queue the lookup of `name` if it is due (once, whatever the visits); True if queued."""
    if not author_backfill_claim(name):
        return False

    def send() -> None:
        try:
            author_backfill.delay(name)
        except BrokerError as error:
            log.warning("author lookup not queued, the broker is unavailable: %s", error)
            author_backfill_unqueued(name, "the lookup could not be queued")

    transaction.on_commit(send)
    return True


@shared_task
def topic_brief(topic_id: int, day: str, language: str) -> str:
    """Write one topic's brief of a day in one language (LLM, behind the day's breaker)."""
    date = dt.date.fromisoformat(day)
    return briefs_write(date=date, languages=[language], topics={topic_id}).summary()


def topic_brief_queue(*, topic_id: int, day: dt.date, language: str) -> bool:
    """Queue `topic_brief` at most once an hour per topic, day and language; True if queued."""
    if not cache.add(f"topic-brief:{topic_id}:{day.isoformat()}:{language}", 1, BRIEF_ASK_EVERY):
        return False
    try:
        topic_brief.delay(topic_id, day.isoformat(), language)
    except BrokerError as error:
        log.warning("topic brief not queued, the broker is unavailable: %s", error)
        return False
    return True
