"""Steps 4–6 at scale: who is due, the day's work cut into chunks any number of workers share,
and the deliveries to try again.

Nothing here needs a lock between workers: a digest exists once per (subscriber, day) because
the database says so, and a delivery is claimed with a conditional update before the ESP is
called. A chunk handed to two workers, or run twice, makes each digest once and sends it once.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, connections
from django.db.models import Q
from django.utils import timezone

from digests.assemble import digests_assemble
from digests.delivery import SendOutcome, delivery_send, emails_render, esp_connection_close
from digests.models import Delivery, Digest, IngestDay, PipelineStep
from digests.models.run import StepTimer, step_recorded
from digests.render import RenderedEmail
from subscribers.models import Subscriber

__all__ = [
    "SendPlan",
    "SendReport",
    "chunk_send",
    "digests_retry_due",
    "id_chunks",
    "send_plan",
    "send_threads",
    "subscriber_ids_due",
]

log = logging.getLogger(__name__)

SEND_TRIES = 3
SEND_BACKOFF = 1.0  # seconds before the second try when sending in the foreground; doubles
RETRY_GRACE = dt.timedelta(minutes=10)  # a retry task this late was lost: enqueue it again
RECENT_DAYS = 7


@dataclass
class SendReport:
    issue_date: dt.date | None
    assembled: int = 0
    empty: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    queued: int = 0
    digest_ids: list[int] = field(default_factory=list)
    retry_ids: list[int] = field(default_factory=list)

    def add(self, other: SendReport) -> None:
        for name in ("assembled", "empty", "sent", "skipped", "failed", "queued"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.digest_ids += other.digest_ids
        self.retry_ids += other.retry_ids

    def summary(self) -> str:
        if self.issue_date is None:
            return "no announcement to send: no digest made"
        return (
            f"digests for {self.issue_date}: {self.sent} sent, {self.empty} empty, "
            f"{self.failed} failed, {self.queued} left queued after transient errors, "
            f"{self.skipped} already handled ({self.assembled} assembled)"
        )


def _last_delivery_moment(at: dt.datetime, zone: ZoneInfo, delivery_time: dt.time) -> dt.datetime:
    """The latest moment <= `at` when the reader's local clock showed `delivery_time`."""
    local = at.astimezone(zone)
    moment = dt.datetime.combine(local.date(), delivery_time, tzinfo=zone)
    if moment > local:
        moment = dt.datetime.combine(
            local.date() - dt.timedelta(days=1), delivery_time, tzinfo=zone
        )
    return moment


def subscriber_ids_due(*, at: dt.datetime, issue_date: dt.date) -> list[int]:
    """Active subscribers with no digest yet whose delivery time has come since the day was ready.

    An announcement reaches each reader at the first local delivery time after it was
    ingested and enriched: the next morning, wherever they are. The clock arithmetic runs once
    per distinct (time zone, delivery time), not once per subscriber.
    """
    ready = (
        IngestDay.objects.filter(date=issue_date, status=IngestDay.Status.ANNOUNCED)
        .values_list("ready_at", flat=True)
        .first()
    )
    if ready is None:
        return []
    week_ago = issue_date - dt.timedelta(days=6)
    candidates = (
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
        .exclude(digests__issue_date=issue_date)
        # weekly readers: one digest a week, the week's best
        .exclude(frequency=Subscriber.Frequency.WEEKLY, digests__issue_date__gte=week_ago)
    )
    due_times: dict[str, list[dt.time]] = defaultdict(list)
    for zone, delivery_time in candidates.values_list("timezone", "delivery_time").distinct():
        if _last_delivery_moment(at, ZoneInfo(zone), delivery_time) >= ready:
            due_times[zone].append(delivery_time)
    if not due_times:
        return []
    due = Q()
    for zone, times in due_times.items():
        due |= Q(timezone=zone, delivery_time__in=times)
    return list(candidates.filter(due).order_by("pk").values_list("pk", flat=True))


def id_chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _send_with_retries(
    digest: Digest, tries: int, rendered: RenderedEmail | None = None
) -> SendOutcome:
    """Send now; in the foreground (tries > 1) a transient failure is tried again at once."""
    for attempt in range(tries):
        outcome = delivery_send(digest=digest, rendered=rendered)
        if outcome != SendOutcome.RETRY or attempt == tries - 1:
            return outcome
        time.sleep(SEND_BACKOFF * 2**attempt * (1 + random.random() / 2))
    return SendOutcome.RETRY


def _timer_note(timer: StepTimer, report: SendReport, *names: str, idle: bool) -> None:
    timer.run.counts = {name: getattr(report, name) for name in names}
    timer.idle = idle


def chunk_send(
    *,
    issue_date: dt.date,
    subscriber_ids: Iterable[int],
    tries: int = 1,
    progress: Callable[[int], None] | None = None,
) -> SendReport:
    """Assemble and send the digests of `issue_date` for these subscribers (one task's share).

    With `tries=1` (a Celery task) a transient ESP failure leaves the delivery queued with its
    next attempt time in `retry_ids`, for the caller to schedule.
    """
    report = SendReport(issue_date=issue_date)
    with step_recorded(step=PipelineStep.ASSEMBLE, day=issue_date) as timer:
        subscribers = (
            Subscriber.objects.filter(pk__in=list(subscriber_ids), status=Subscriber.Status.ACTIVE)
            .select_related("profile")
            .prefetch_related("profile__topics")
            .order_by("pk")
        )
        timings: dict[str, float] = {}
        digests = digests_assemble(subscribers=subscribers, issue_date=issue_date, timings=timings)
        report.assembled = len(digests)
        _timer_note(timer, report, "assembled", idle=not digests)
    with step_recorded(step=PipelineStep.SEND, day=issue_date) as timer:
        # the chunk's e-mails rendered together: items in bulk, cards compiled once a day
        started = time.perf_counter()
        emails = emails_render([d for d in digests if d.status == Digest.Status.ASSEMBLED])
        timings["render"] = time.perf_counter() - started
        started = time.perf_counter()
        outcomes = _sent(
            [d for d in digests if d.status != Digest.Status.EMPTY], emails, tries, progress
        )
        for digest in digests:
            if digest.status == Digest.Status.EMPTY:
                report.empty += 1
                if progress:
                    progress(1)
            else:
                _count(report, digest, outcomes[digest.pk])
        timings["send"] = time.perf_counter() - started
        _timer_note(timer, report, "sent", "empty", "failed", "queued", "skipped", idle=not digests)
    if digests:  # where a chunk's time went (bench/daily_run.py reads these lines)
        spent = " ".join(f"{name}_ms={s * 1000:.0f}" for name, s in timings.items())
        log.info("chunk of %d digests: %s", len(digests), spent)
    return report


def send_threads() -> int:
    """Messages a worker has in flight at once: SEND_CONCURRENCY; one on SQLite (one writer
    at a time: its threads would wait on each other's locks), and one inside a transaction
    (other connections would not see its rows)."""
    if connection.vendor == "sqlite" or connection.in_atomic_block:
        return 1
    return settings.SEND_CONCURRENCY


def _sent(
    digests: list[Digest],
    emails: dict[int, RenderedEmail],
    tries: int,
    progress: Callable[[int], None] | None,
) -> dict[int, SendOutcome]:
    """Each digest sent, by id: `send_threads()` at a time, each thread with its own database
    connection and ESP connection (the ESP's answer is what a send waits for). The claim keeps
    each digest sent once whatever the threads do; an error in one stops the others' next
    sends and is raised here."""
    threads = min(send_threads(), len(digests))
    if threads <= 1:
        out = {}
        for digest in digests:
            out[digest.pk] = _send_with_retries(digest, tries, emails.get(digest.pk))
            if progress:
                progress(1)
        return out
    todo = iter(digests)
    lock = threading.Lock()
    outcomes: dict[int, SendOutcome] = {}
    errors: list[BaseException] = []

    def run() -> None:
        try:
            while not errors:
                with lock:
                    digest = next(todo, None)
                if digest is None:
                    return
                outcome = _send_with_retries(digest, tries, emails.get(digest.pk))
                with lock:
                    outcomes[digest.pk] = outcome
                    if progress:
                        progress(1)
        except BaseException as error:  # raised again in the caller's thread
            errors.append(error)
        finally:
            esp_connection_close()
            connections.close_all()  # this thread's own connection

    pool = [threading.Thread(target=run, name=f"send-{n}") for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    return outcomes


def _count(report: SendReport, digest: Digest, outcome: SendOutcome) -> None:
    if outcome == SendOutcome.SENT:
        report.sent += 1
        report.digest_ids.append(digest.pk)
    elif outcome == SendOutcome.FAILED:
        report.failed += 1
    elif outcome == SendOutcome.RETRY:
        report.queued += 1
        report.retry_ids.append(digest.pk)
    else:
        report.skipped += 1


def digests_retry_due(*, now: dt.datetime) -> list[int]:
    """Digests whose sending was left to a retry that is overdue: the task that should have
    tried again was lost (a broker restarted without its queue), or the digest was assembled
    by a run that died before sending. Trying them again is safe: the delivery claim decides."""
    overdue = now - RETRY_GRACE
    recent = now - dt.timedelta(days=RECENT_DAYS)
    return list(
        Digest.objects.filter(status=Digest.Status.ASSEMBLED, created_at__gte=recent)
        .filter(
            Q(delivery__isnull=True, created_at__lt=overdue)
            | Q(delivery__status=Delivery.Status.QUEUED, delivery__next_attempt_at__lt=overdue)
            | Q(
                delivery__status=Delivery.Status.QUEUED,
                delivery__next_attempt_at__isnull=True,
                delivery__updated_at__lt=overdue,
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@dataclass
class SendPlan:
    """What one tick of the schedule hands to the workers."""

    issue_date: dt.date | None
    chunks: list[list[int]]
    retry_digest_ids: list[int]

    def summary(self) -> str:
        due = sum(len(chunk) for chunk in self.chunks)
        return (
            f"{due} subscribers due for {self.issue_date} in {len(self.chunks)} chunks; "
            f"{len(self.retry_digest_ids)} overdue retries"
        )


def send_plan(*, issue_date: dt.date | None, now: dt.datetime | None = None) -> SendPlan:
    now = now or timezone.now()
    due = subscriber_ids_due(at=now, issue_date=issue_date) if issue_date else []
    return SendPlan(
        issue_date=issue_date,
        chunks=id_chunks(due, settings.SEND_CHUNK_SIZE),
        retry_digest_ids=digests_retry_due(now=now),
    )
