"""Celery tasks: thin wrappers that load by id and call one step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from digests.arxiv.client import ArxivUnavailable
from digests.arxiv.library import library_lookup
from digests.arxiv.seeds import seed_ids, seeds_fetch, seeds_missing_fetch
from digests.biorxiv.client import BiorxivUnavailable
from digests.daily import announcement_ingest_until, daily_run, day_enrich
from digests.delivery import SendOutcome, delivery_send
from digests.fanout import chunk_send, send_plan
from digests.models import Delivery, Digest
from digests.models.run import beat_tick_claim
from digests.readings import latest_issue_date
from digests.reconcile import deliveries_reconcile
from subscribers.library.zotero import zotero_sync_all

RETRY_SECONDS = 15 * 60


@shared_task
def pipeline_run_daily() -> str:
    ingest, send = daily_run()
    return f"{ingest.summary()}; {send.summary()}"


@shared_task(bind=True, max_retries=None)
def announcement_ingest(self) -> str:
    """Ingest today's announcement; stale feeds and an unreachable arXiv are tried again."""
    if not self.request.retries and not beat_tick_claim(
        task="announcement_ingest", slot=timezone.now().date().isoformat()
    ):
        return "today's ingestion was already started by another beat"
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
    seeds_missing_fetch()  # the day's digests are scored once it is enriched
    enriched, briefs = day_enrich(date=day)
    return f"{enriched.summary()}; {briefs.summary()}"


@shared_task(bind=True, max_retries=3)
def seeds_lookup(self, arxiv_ids: list[str]) -> str:
    """Fetch from arXiv (or bioRxiv/medRxiv, for DOIs) the seed papers a reader just gave
    that we do not hold."""
    try:
        return seeds_fetch(arxiv_ids).summary()
    except (ArxivUnavailable, BiorxivUnavailable) as error:
        raise self.retry(exc=error, countdown=RETRY_SECONDS) from error


def seeds_lookup_queue(arxiv_ids: Iterable[str]) -> None:
    """Queue `seeds_lookup` once the saving transaction commits (none if it rolls back)."""
    ids = seed_ids(arxiv_ids)
    if ids:
        transaction.on_commit(lambda: seeds_lookup.delay(ids))


@shared_task(bind=True, max_retries=3)
def library_lookup_readers(self, subscriber_ids: list[int] | None = None) -> str:
    """Look up on arXiv the library DOIs of these readers (all, when None) and fetch the
    papers that shape their profiles."""
    try:
        return library_lookup(subscriber_ids=subscriber_ids).summary()
    except ArxivUnavailable as error:
        raise self.retry(exc=error, countdown=RETRY_SECONDS) from error


def library_lookup_queue(subscriber_ids: Iterable[int]) -> None:
    """Queue `library_lookup_readers` once the import's transaction commits."""
    ids = list(subscriber_ids)
    transaction.on_commit(lambda: library_lookup_readers.delay(ids))


@shared_task
def zotero_sync_daily() -> str:
    """Once a day: every active reader's Zotero library read again, then its DOIs looked up."""
    synced = zotero_sync_all()
    if synced:
        library_lookup_readers.delay(synced)
    return f"zotero: {len(synced)} libraries read"


def _quarter_hour(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:") + f"{moment.minute // 15 * 15:02d}"


@shared_task
def digests_send_due() -> str:
    """Every 15 minutes: hand the due subscribers to the workers in chunks, and overdue retries.

    Only the first beat's tick runs; a second beat's duplicate finds it taken."""
    now = timezone.now()
    if not beat_tick_claim(task="digests_send_due", slot=_quarter_hour(now)):
        return "this tick was already handled"
    settled = deliveries_reconcile(now=now)
    plan = send_plan(issue_date=latest_issue_date(), now=now)
    for chunk in plan.chunks:  # none without an issue date
        digests_send_chunk.delay(str(plan.issue_date), chunk)
    for digest_id in [*plan.retry_digest_ids, *settled.requeued]:
        digest_deliver.delay(digest_id)
    return f"{plan.summary()}; {settled.summary()}"


# A database that drops the connection mid-task: the task runs again soon (its work is claimed
# row by row, so a second run only does what the first did not).
DB_HICCUPS = (OperationalError, InterfaceError)


@shared_task(autoretry_for=DB_HICCUPS, retry_backoff=5, retry_backoff_max=120, max_retries=5)
def digests_send_chunk(issue_date: str, subscriber_ids: list[int]) -> str:
    """One worker's share: assemble and send these subscribers' digests; retries scheduled."""
    report = chunk_send(issue_date=dt.date.fromisoformat(issue_date), subscriber_ids=subscriber_ids)
    retry_at = dict(
        Delivery.objects.filter(digest_id__in=report.retry_ids).values_list(
            "digest_id", "next_attempt_at"
        )
    )
    for digest_id, eta in retry_at.items():
        digest_deliver.apply_async(args=[digest_id], eta=eta)
    return report.summary()


@shared_task(
    bind=True, max_retries=None, autoretry_for=DB_HICCUPS, retry_backoff=5, retry_backoff_max=120
)
def digest_deliver(self, digest_id: int) -> str:
    """Send one digest; a transient ESP error is tried again at the delivery's next attempt
    time (backoff with jitter), until SEND_DEADLINE_HOURS, when it is recorded failed."""
    digest = Digest.objects.select_related("subscriber").get(pk=digest_id)
    outcome = delivery_send(digest=digest)
    if outcome == SendOutcome.RETRY:  # the time the send recorded (not a copy read before)
        recorded = Delivery.objects.filter(digest_id=digest_id)
        retry_at = recorded.values_list("next_attempt_at", flat=True).first() or timezone.now()
        raise self.retry(countdown=max(1.0, (retry_at - timezone.now()).total_seconds()))
    return outcome.value


__all__ = [
    "announcement_ingest",
    "day_enrich_latest",
    "digest_deliver",
    "digests_send_chunk",
    "digests_send_due",
    "library_lookup_queue",
    "library_lookup_readers",
    "pipeline_run_daily",
    "seeds_lookup",
    "seeds_lookup_queue",
    "zotero_sync_daily",
]
