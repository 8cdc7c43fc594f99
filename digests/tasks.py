"""Celery tasks: thin wrappers that load by id and call one step."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from digests.arxiv_http import ArxivUnavailable
from digests.delivery import SendOutcome, delivery_send
from digests.models import Digest
from digests.pipeline import (
    announcement_ingest_until,
    daily_run,
    day_enrich,
    digests_send,
    latest_issue_date,
)

RETRY_SECONDS = 15 * 60


@shared_task
def pipeline_run_daily() -> str:
    ingest, send = daily_run()
    return f"{ingest.summary()}; {send.summary()}"


@shared_task(bind=True, max_retries=None)
def announcement_ingest(self) -> str:
    """Ingest today's announcement; stale feeds and an unreachable arXiv are tried again."""
    try:
        report, try_again = announcement_ingest_until(now=timezone.now())
    except ArxivUnavailable as error:
        raise self.retry(exc=error, countdown=RETRY_SECONDS) from error
    if try_again:
        raise self.retry(countdown=RETRY_SECONDS)
    if report.announced:
        day_enrich_latest.delay()
    return report.summary()


@shared_task
def day_enrich_latest() -> str:
    """Enrich the latest announcement day (after ingestion; cached, so safe to repeat)."""
    day = latest_issue_date()
    if day is None:
        return "no announcement day ingested"
    enriched, briefs = day_enrich(date=day)
    return f"{enriched.summary()}; {briefs.summary()}"


@shared_task
def digests_send_due() -> str:
    return digests_send(issue_date=latest_issue_date(), at=timezone.now()).summary()


@shared_task(bind=True, max_retries=None)
def digest_deliver(self, digest_id: int) -> str:
    """Send one digest; a transient ESP error is tried again at the delivery's next attempt
    time (backoff with jitter), until SEND_DEADLINE_HOURS, when it is recorded failed."""
    digest = Digest.objects.select_related("subscriber").get(pk=digest_id)
    outcome = delivery_send(digest=digest)
    if outcome == SendOutcome.RETRY:
        retry_at = digest.delivery.next_attempt_at
        raise self.retry(countdown=max(1.0, (retry_at - timezone.now()).total_seconds()))
    return outcome.value


__all__ = [
    "announcement_ingest",
    "day_enrich_latest",
    "digest_deliver",
    "digests_send_due",
    "pipeline_run_daily",
]
