"""Benchmark the daily run at scale: N subscribers, 2,000 papers, real Celery workers.

    .venv/bin/python bench/daily_run.py [--subscribers 1000 10000 [100000]] [--workers 1 2 4]
        [--pool prefork|solo] [--chunk-size 500] [--enrich llm|lexical] [--esp-latency 0.02]
        [--broker-db 10] [--database bench_daily_run]

What runs, as in production: a throw-away PostgreSQL database (`--database`, default
`bench_daily_run`, created, migrated and dropped by the script), Redis DB `--broker-db` (one of
10-13, default 10: pick one nobody else's run uses) as the broker (flushed first), the local
Postmark-compatible stub ESP and the local OpenAI-compatible LLM stub, both served from this
process, and `--workers` real `celery worker` processes (`--pool prefork --concurrency 1` each,
or `--pool solo`; each count of `--workers` in turn) sending through Anymail's Postmark backend
to a stub answering after `--esp-latency` seconds (20 ms by default).

The day: 2,000 synthetic papers (vocabulary, authors and categories from bench/scoring.py's
`Corpus`) written as an arXiv day with `day_write` and INGESTED THROUGH THE REPLAY SERVER with
`day_ingest`, then ENRICHED THROUGH THE LLM STUB with `day_enrich` (one call per paper and
language, en and zh, plus the topic briefs; `--enrich lexical` reads them lexically instead).
As on real days, where arXiv's API seldom gives affiliations, 90% of the papers (a seeded
draw) publish their authors' affiliations only on their HTML page (LaTeXML's markup), which
enrichment reads from the replay server (`day_affiliations_read`, every page: ARXIV_HTML_PAGES
5,000); the other 10% have them in the API answer, and no page is read for them.
Each N gets N new subscribers with varied profiles (topics, keywords, authors, institutions,
categories, free text; en/zh; eight time zones; delivery times 06:00-09:30; 85% daily, 15%
weekly). Ingestion and enrichment happen once, before the first N, and are not timed.

Timed: the production fan-out. The day is marked ready 25 hours ago (so every subscriber's
local delivery time has come: all N are due in one tick, where production spreads them over the
day's quarter-hour ticks), `digests_send_due` runs once in this process and puts one
`digests_send_chunk` task per SEND_CHUNK_SIZE subscribers on the broker, and the clock stops
when every due digest is SENT, EMPTY or FAILED in the database.

Nothing slow on the send path: this process and the workers have their ARXIV_* URLs pointed at
the replay server, which stays up while they send; the requests it gets from the workers' start
to the last digest final are counted and must be none ("arXiv requests while sending 0"; the
run exits non-zero otherwise), as the LLM stub's calls meanwhile are.

Where the workers' time goes: each chunk's worker logs its milliseconds spent scoring and
picking, assembling (briefs, writing), rendering and sending (`digests.fanout`); they are
summed and divided by the digests. How busy the machine was: every process's CPU time while
sending (/proc/stat, as bench/scoring.py), and this run's own (this process and the workers).

Peak memory: VmHWM (the kernel's peak-RSS mark) from /proc/<pid>/status of each worker process
and of its pool child, sampled every 0.5 s while it runs; for this process, VmHWM reset before
each N (so it is that N's peak). Figures are from a 2-core machine shared with other people's
test runs: treat them as noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._workers import (
    MemorySampler,
    cpu_seconds,
    database_create,
    database_drop,
    process_stop,
    redis_flush,
    self_peak_mib,
    self_peak_reset,
    signals_deferred,
    sigterm_interrupts,
    wait_until,
)
from bench.scoring import Corpus, busy_seconds
from devtools.arxiv_replay import ReplayServer, replay_server_start

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 6, 18)
PAPERS = 2000
DATABASE = "bench_daily_run"
BROKER_DB = 10
SEED = 20260618
ESTIMATE_FOR = 100_000
HTML_SHARE = 0.9  # papers whose affiliations are only on their HTML page, as on real days
HTML_PAGES = 5000  # ARXIV_HTML_PAGES at enrichment: every paper's page is read (untimed)
ZONES = (
    "Asia/Shanghai",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)
DELIVERY_TIMES = [dt.time(hour, minute) for hour in range(6, 10) for minute in (0, 30)]


@dataclass
class RunResult:
    subscribers: int
    due: int
    chunks: int
    wall: float
    statuses: dict[str, int]
    delivery_statuses: dict[str, int]
    received: int
    distinct: int
    llm_calls_while_sending: int
    arxiv_requests_while_sending: list[str]  # the paths the replay server was asked for
    created_seconds: float
    peak_bench_mib: float
    peaks_mib: dict[str, float] = field(default_factory=dict)
    steps: dict[str, tuple[int, float]] = field(default_factory=dict)  # step: (runs, seconds)
    workers: int = 2
    split_ms: dict[str, float] = field(default_factory=dict)  # worker ms: score, assemble, …
    split_digests: int = 0  # the digests those chunks held
    busy_cores: float = 0.0  # the whole machine, while sending
    own_cores: float = 0.0  # this run's processes (this one, the workers)
    load: float = 0.0  # load average (1 min) at the end

    @property
    def done(self) -> int:
        return sum(self.statuses.get(s, 0) for s in ("sent", "empty", "failed"))


class SlimMessages(list):
    """The stub ESP's message list, keeping only the recipient and the digest id of each
    message: 100,000 full HTML bodies would not fit in memory."""

    def append(self, message: dict[str, Any]) -> None:
        metadata = message.get("Metadata") or {}
        super().append({"To": message.get("To"), "digest_id": metadata.get("digest_id")})


# ---------------------------------------------------------------- the day: papers and readers


def day_papers_write(corpus: Corpus, folder: Path) -> tuple[Path, list[str]]:
    """Write the synthetic day in arXiv's formats; return its folder and its categories."""
    from devtools.arxiv_fixtures import FakePaper, day_write

    on_page = random.Random(SEED + 1)  # which papers' affiliations are on their HTML page only
    papers = []
    for row in corpus.papers(PAPERS):
        replacement = row.announce_type.startswith("replace")
        affiliations = row.affiliations or [""]
        papers.append(
            FakePaper(
                arxiv_id=f"2606.{10000 + row.id:05d}",
                title=row.title,
                abstract=row.abstract,
                version=2 if replacement else 1,
                announce_type="replace" if replacement else "new",
                categories=row.categories,
                # every author has an affiliation: on the paper's HTML page only (read at
                # enrichment), or in the API's answer (no page to read)
                authors=[
                    (name, [affiliations[k % len(affiliations)]])
                    for k, name in enumerate(row.authors)
                ],
                affiliations_in="html" if on_page.random() < HTML_SHARE else "api",
            )
        )
    categories = sorted({c for paper in papers for c in paper.categories})
    return day_write(folder, DAY, papers), categories


def day_ingest_and_enrich(
    server: ReplayServer, categories: list[str], enrich: str, llm_url: str
) -> str:
    """Ingest the day from the replay server, then enrich it, reading the papers' HTML pages
    from the same server; return a one-line account."""
    from django.test.utils import override_settings

    from digests.daily import day_affiliations_read, day_enrich
    from digests.enrich import lexical_enrich
    from digests.ingest import day_ingest
    from digests.models import IngestDay, Paper

    pages_before = sum(path.startswith("/html/") for path in server.recorded.requests)
    with override_settings(
        ARXIV_RSS_URL=server.rss_url,
        ARXIV_API_URL=server.api_url,
        ARXIV_HTML_URL=server.html_url,
        ARXIV_REQUEST_DELAY=0,
        ARXIV_HTML_PAGES=HTML_PAGES,
    ):
        started = time.perf_counter()
        ingested = day_ingest(categories=categories, date=DAY)
        ingest_seconds = time.perf_counter() - started
        from_api = sum(bool(p.affiliations) for p in Paper.objects.filter(announce_date=DAY))
        started = time.perf_counter()
        if enrich == "llm":
            with override_settings(OPENAI_API_KEY="bench", OPENAI_BASE_URL=llm_url):
                enriched, briefs = day_enrich(date=DAY)  # reads the pages (day_affiliations_read)
            how = f"{enriched.summary()}; {briefs.summary()}"
        else:
            papers = list(Paper.objects.filter(announce_date=DAY))
            lexical_enrich(papers)
            day_affiliations_read(papers, day=DAY)  # as day_enrich does
            IngestDay.objects.filter(date=DAY).update(ready_at=dt.datetime.now(dt.UTC))
            how = "read lexically (no LLM)"
        enrich_seconds = time.perf_counter() - started
    pages = sum(path.startswith("/html/") for path in server.recorded.requests) - pages_before
    from_pages = sum(
        bool(p.affiliations)
        for p in Paper.objects.filter(announce_date=DAY, affiliations_checked_at__isnull=False)
    )
    return (
        f"ingested {ingested.created} papers from the replay server in {ingest_seconds:.1f} s "
        f"({len(categories)} category feeds); enriched in {enrich_seconds:.1f} s: {how}; "
        f"affiliations: {from_pages} papers from their HTML pages ({pages} pages read), "
        f"{from_api} from the API"
    )


def subscribers_create(corpus: Corpus, count: int, rng: random.Random) -> None:
    """`count` active subscribers with varied profiles, in bulk."""
    from django.utils import timezone

    from digests.models import Topic
    from subscribers.models import InterestProfile, Subscriber

    now = timezone.now()
    profiles = corpus.profiles(count, corpus.texts(20))
    batch = 5000
    for start in range(0, count, batch):
        subscribers = Subscriber.objects.bulk_create(
            Subscriber(
                email=f"reader{start + k}@bench.example.org",
                status=Subscriber.Status.ACTIVE,
                confirmed_at=now,
                language=rng.choice(("en", "en", "en", "zh", "zh")),
                timezone=rng.choice(ZONES),
                delivery_time=rng.choice(DELIVERY_TIMES),
                frequency=(
                    Subscriber.Frequency.WEEKLY
                    if rng.random() < 0.15
                    else Subscriber.Frequency.DAILY
                ),
            )
            for k in range(min(batch, count - start))
        )
        InterestProfile.objects.bulk_create(
            InterestProfile(
                subscriber=subscriber,
                keywords=row.keywords,
                exclude_keywords=row.exclude_keywords,
                authors=row.authors,
                institutions=row.institutions,
                categories=row.categories,
                interests=row.interests,
                include_updates=row.include_updates,
                max_items=rng.randint(10, 25),
                min_relevance=rng.randint(20, 50),
            )
            for subscriber, row in zip(subscribers, profiles[start : start + batch], strict=True)
        )
    topic_ids = dict(Topic.objects.values_list("slug", "pk"))
    profile_ids = dict(InterestProfile.objects.values_list("subscriber__email", "pk"))
    through = InterestProfile.topics.through
    through.objects.bulk_create(
        (
            through(
                interestprofile_id=profile_ids[f"reader{k}@bench.example.org"],
                topic_id=topic_ids[slug],
            )
            for k, row in enumerate(profiles)
            for slug in row.topics
            if slug in topic_ids
        ),
        batch_size=5000,
    )


def cards_compile() -> None:
    """The day's cards compiled again into the cache (untimed), as enrichment compiles them:
    each run flushes the broker's Redis, which is the cache too."""
    from digests.delivery import cards_warm
    from digests.enrich import enrich_languages
    from digests.models import Paper

    papers = list(Paper.objects.filter(announce_date=DAY))
    cards_warm(day=DAY, papers=papers, languages=enrich_languages())


def readers_reset() -> None:
    """Remove the previous N's subscribers with their digests and deliveries, and the beat's
    claimed ticks (the next tick would otherwise find its quarter hour taken)."""
    from django.db import connection

    from digests.models.run import BeatTick
    from subscribers.models import Subscriber

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Subscriber._meta.db_table}, {BeatTick._meta.db_table} CASCADE")


# ---------------------------------------------------------------- the workers


def workers_start(
    count: int, pool: str, env: dict[str, str], logs: Path, processes: list[subprocess.Popen]
) -> None:
    """Start `count` celery workers, each in a session of its own, into `processes` (the
    caller's list, so that it can stop them whatever happens); wait until each is ready."""
    for number in range(1, count + 1):
        log = logs / f"worker-{number}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "newsletter", "worker", "--pool", pool,
            "--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
            "--hostname", f"bench{number}@%h",
        ]  # fmt: skip
        with log.open("w") as out:
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl-C reaches us only; we stop them in order
                )
            )
    for number, process in enumerate(processes, start=1):
        log = logs / f"worker-{number}.log"

        def ready(log: Path = log, process: subprocess.Popen = process) -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{log.name}: the worker exited:\n{log.read_text()[-2000:]}")
            return " ready." in log.read_text()

        wait_until(ready, seconds=120, what=f"worker {number} to be ready")


def workers_stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()  # all warm shutdowns at once, then wait for each
    for process in processes:
        process_stop(process, timeout=30)


# ---------------------------------------------------------------- one N


def digest_counts() -> tuple[dict[str, int], dict[str, int]]:
    from django.db.models import Count

    from digests.models import Delivery, Digest

    digests = Digest.objects.filter(issue_date=DAY).values_list("status").annotate(n=Count("pk"))
    deliveries = (
        Delivery.objects.filter(digest__issue_date=DAY)
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return dict(digests), dict(deliveries)


def step_seconds(since: dt.datetime) -> dict[str, tuple[int, float]]:
    """The workers' recorded assemble and send steps since `since`: (runs, total seconds)."""
    from digests.models import PipelineStep
    from digests.models.run import StepRun

    totals: dict[str, tuple[int, float]] = {}
    runs = StepRun.objects.filter(
        started_at__gte=since,
        step__in=[PipelineStep.ASSEMBLE, PipelineStep.SEND],
        finished_at__isnull=False,
    )
    for step, started, finished in runs.values_list("step", "started_at", "finished_at"):
        if finished is None:
            continue
        count, seconds = totals.get(step, (0, 0.0))
        totals[step] = (count + 1, seconds + (finished - started).total_seconds())
    return totals


def send_and_wait(
    due: int, processes: list[subprocess.Popen], logs: Path, timeout: float
) -> tuple[float, int, dict[str, int], dict[str, int]]:
    """Run the beat task once, then wait for every due digest to be final; the wall time."""
    from digests.tasks import digests_send_due

    started = time.perf_counter()
    summary = digests_send_due.apply().get()
    if "already handled" in summary:
        raise RuntimeError(f"digests_send_due did nothing: {summary}")
    chunks = int(summary.split(" in ")[1].split()[0]) if " in " in summary else 0
    last_note = started
    while True:
        statuses, deliveries = digest_counts()
        final = sum(statuses.get(s, 0) for s in ("sent", "empty", "failed"))
        if final >= due:
            return time.perf_counter() - started, chunks, statuses, deliveries
        now = time.perf_counter()
        if now - started > timeout:
            raise TimeoutError(f"{final} of {due} digests final after {timeout:.0f} s")
        for number, process in enumerate(processes, start=1):
            if process.poll() is not None:
                tail = (logs / f"worker-{number}.log").read_text()[-2000:]
                raise RuntimeError(f"worker {number} died mid-run:\n{tail}")
        if now - last_note > 15:
            print(f"  ... {final}/{due} digests final after {now - started:.0f} s", file=sys.stderr)
            last_note = now
        time.sleep(0.5)


_CHUNK_LINE = re.compile(r"chunk of (\d+) digests: (.*)$", re.MULTILINE)


def worker_split(logs: Path, workers: int) -> tuple[dict[str, float], int]:
    """The workers' own account of their chunks (digests.fanout logs one line per chunk):
    milliseconds per part summed, and the digests of those chunks."""
    split: dict[str, float] = {}
    digests = 0
    for number in range(1, workers + 1):
        text = (logs / f"worker-{number}.log").read_text(errors="replace")
        for found in _CHUNK_LINE.finditer(text):
            digests += int(found.group(1))
            for part in found.group(2).split():
                name, _, ms = part.partition("_ms=")
                split[name] = split.get(name, 0.0) + float(ms)
    return split, digests


def run_one(
    count: int,
    workers: int,
    *,
    corpus: Corpus,
    args: argparse.Namespace,
    env: dict[str, str],
    stubs: dict,
) -> RunResult:
    from django.utils import timezone

    from digests.fanout import subscriber_ids_due
    from digests.models import IngestDay

    readers_reset()
    redis_flush(args.broker_db)
    started = time.perf_counter()
    subscribers_create(corpus, count, random.Random(SEED + count))
    created = time.perf_counter() - started
    if not IngestDay.objects.filter(date=DAY).exists():
        print(stubs["prepare"](), flush=True)
    else:  # the flush above emptied the cache too: the day's cards, compiled at enrichment
        cards_compile()
    now = timezone.now()
    IngestDay.objects.filter(date=DAY).update(ready_at=now - dt.timedelta(hours=25))
    due = len(subscriber_ids_due(at=now, issue_date=DAY))

    esp, llm, arxiv = stubs["esp"], stubs["llm"], stubs["arxiv"]
    esp.messages = SlimMessages()
    esp.requests.clear()
    chat_before = llm.chat_calls
    arxiv_before = len(arxiv.recorded.requests)  # from here to the last digest: none expected
    logs = Path(env["DATA_DIR"]).parent
    processes: list[subprocess.Popen] = []
    try:
        workers_start(workers, args.pool, env, logs, processes)
        sampler = MemorySampler(
            {p.pid: f"worker {n}" for n, p in enumerate(processes, start=1)},
            child_label="pool child",
        ).start()
        self_peak_reset()
        timeout = args.timeout or 300 + count * 0.2
        own = cpu_seconds(os.getpid())  # with its children: the workers and their pools
        busy = busy_seconds()
        wall, chunks, statuses, deliveries = send_and_wait(due, processes, logs, timeout)
        busy = busy_seconds() - busy
        own = cpu_seconds(os.getpid()) - own
        load = os.getloadavg()[0]
        peak_bench = self_peak_mib()
        peaks = sampler.stop()
        steps = step_seconds(now)
        arxiv_requests = arxiv.recorded.requests[arxiv_before:]
    finally:
        workers_stop(processes)
    split, split_digests = worker_split(logs, workers)
    ids = [m["digest_id"] for m in esp.messages]
    return RunResult(
        subscribers=count,
        due=due,
        chunks=chunks,
        wall=wall,
        statuses=statuses,
        delivery_statuses=deliveries,
        received=len(ids),
        distinct=len(set(ids)),
        llm_calls_while_sending=llm.chat_calls - chat_before,
        arxiv_requests_while_sending=arxiv_requests,
        created_seconds=created,
        peak_bench_mib=peak_bench,
        peaks_mib=peaks,
        steps=steps,
        workers=workers,
        split_ms=split,
        split_digests=split_digests,
        busy_cores=busy / wall,
        own_cores=own / wall,
        load=load,
    )


def report(r: RunResult, *, papers: int, chunk_size: int, pool: str) -> None:
    workers = r.workers
    sent = r.statuses.get("sent", 0)
    match = "OK" if r.received == sent else "MISMATCH"
    duplicates = r.received - r.distinct
    print()
    print(f"N subscribers          {r.subscribers:,} (created untimed, {r.created_seconds:.1f} s)")
    print(f"papers                 {papers:,} announced on {DAY}")
    print(f"due                    {r.due:,} in {r.chunks} chunks of {chunk_size}")
    print(f"workers                {workers} × celery worker --pool {pool} --concurrency 1")
    print(f"wall time              {r.wall:.1f} s (beat task enqueued → last digest final)")
    print(f"digests / second       {r.done / r.wall:.1f}")
    print(
        f"digests                {sum(r.statuses.values()):,} assembled: {sent:,} sent, "
        f"{r.statuses.get('empty', 0):,} empty, {r.statuses.get('failed', 0):,} failed, "
        f"{r.statuses.get('assembled', 0):,} still assembled"
    )
    print(f"deliveries             {json.dumps(r.delivery_statuses, sort_keys=True)}")
    print(f"stub ESP received      {r.received:,} messages vs {sent:,} sent: {match}")
    print(f"duplicate sends        {duplicates} ({'OK' if duplicates == 0 else 'DUPLICATES'})")
    for step, (runs, seconds) in sorted(r.steps.items()):
        print(
            f"worker step {step:<11}{seconds:.1f} s in {runs} chunks ({seconds / runs:.1f} s "
            f"per chunk, {seconds * 1000 / max(r.due, 1):.0f} ms per digest)"
        )
    if r.split_digests:
        parts = ", ".join(
            f"{name} {ms / r.split_digests:.2f}" for name, ms in sorted(r.split_ms.items())
        )
        total = sum(r.split_ms.values()) / r.split_digests
        print(f"worker time per digest {total:.2f} ms: {parts} (ms, the workers' own account)")
    print(
        f"machine while sending   {r.busy_cores:.2f} of {os.cpu_count()} cores busy: this run "
        f"{r.own_cores:.2f} (bench + workers), others {max(0.0, r.busy_cores - r.own_cores):.2f} "
        f"(PostgreSQL and Redis among them); load average {r.load:.2f}"
    )
    print(f"LLM calls while sending {r.llm_calls_while_sending} (enrichment is per paper)")
    asked = r.arxiv_requests_while_sending
    print(
        f"arXiv requests while sending  {len(asked)} "
        + (
            "(OK: affiliations and records are read at ingestion and enrichment)"
            if not asked
            else f"(NOT OK: the send path called arXiv: {', '.join(asked[:5])})"
        )
    )
    print(
        f"peak RSS, this process {r.peak_bench_mib:.0f} MiB (while sending: beat task, polling, "
        f"stub ESP; includes what ingestion and enrichment left resident)"
    )
    for label, mib in sorted(r.peaks_mib.items()):
        print(f"peak RSS, {label:<33} {mib:.0f} MiB")


def summary(results: list[RunResult]) -> None:
    print()
    print("summary")
    print(f"{'N':>9} {'workers':>7} {'due':>9} {'wall s':>8} {'digests/s':>10} {'sent':>8} "
          f"{'empty':>7} {'failed':>7} {'dupes':>6} {'stub=sent':>9} {'max worker MiB':>15} "
          f"{'others':>7}")  # fmt: skip
    for r in results:
        sent = r.statuses.get("sent", 0)
        worker_peak = max(r.peaks_mib.values(), default=0.0)
        print(
            f"{r.subscribers:>9,} {r.workers:>7} {r.due:>9,} {r.wall:>8.1f} "
            f"{r.done / r.wall:>10.1f} "
            f"{sent:>8,} {r.statuses.get('empty', 0):>7,} {r.statuses.get('failed', 0):>7,} "
            f"{r.received - r.distinct:>6} {'OK' if r.received == sent else 'MISMATCH':>9} "
            f"{worker_peak:>15.0f} {max(0.0, r.busy_cores - r.own_cores):>7.2f}"
        )
    print("(others: cores other processes used meanwhile, PostgreSQL and Redis among them)")
    if any(r.subscribers == ESTIMATE_FOR for r in results):
        return
    # the largest N, at its fastest worker count
    base = max(results, key=lambda r: (r.subscribers, r.done / r.wall))
    estimate = base.wall * ESTIMATE_FOR / base.subscribers
    print(
        f"{ESTIMATE_FOR:>9,}  ESTIMATE, not run: ~{estimate:.0f} s (~{estimate / 60:.0f} min) of "
        f"sending, linear from N={base.subscribers:,} with {base.workers} workers\n"
        f"{'':>11}(chunks are independent; worker memory is per chunk, not per N)"
    )


# ---------------------------------------------------------------- main


def environment(
    workdir: Path, args: argparse.Namespace, database_url: str, arxiv: ReplayServer
) -> dict[str, str]:
    """The variables this process and the workers share (the workers get the stubs' too):
    arXiv is the replay server, which counts what the send path asks it (nothing, expected).
    As deployed (README): one Redis, the broker's, is also the cache every process shares."""
    redis = redis_flush(args.broker_db)
    return {
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis,
        "CACHE_URL": redis,
        "DATA_DIR": str(workdir / "data"),
        "SEND_CHUNK_SIZE": str(args.chunk_size),
        "ARXIV_RSS_URL": arxiv.rss_url,
        "ARXIV_API_URL": arxiv.api_url,
        "ARXIV_HTML_URL": arxiv.html_url,
        "ARXIV_REQUEST_DELAY": "0",
        "LLM_DAILY_TOKEN_BUDGET": str(10**12),
        "LLM_CONCURRENCY": "8",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": "bench-daily-run-not-secret",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[2], help="worker processes: each count in turn"
    )
    parser.add_argument(
        "--broker-db", type=int, default=BROKER_DB, help="Redis DB index of the broker (10-13)"
    )
    parser.add_argument(
        "--database", default=DATABASE, help="the throw-away PostgreSQL database's name"
    )
    parser.add_argument("--pool", choices=("prefork", "solo"), default="prefork")
    parser.add_argument("--chunk-size", type=int, default=500, help="SEND_CHUNK_SIZE")
    parser.add_argument("--enrich", choices=("llm", "lexical"), default="llm")
    parser.add_argument("--esp-latency", type=float, default=0.02, help="seconds per send")
    parser.add_argument("--timeout", type=float, help="per N (default 300 s + 0.2 s × N)")
    args = parser.parse_args()
    sigterm_interrupts()

    workdir = Path(tempfile.mkdtemp(prefix="bench-daily-run-"))
    (workdir / "data").mkdir()
    stubs: dict[str, Any] = {}
    results: list[RunResult] = []
    created_database = False
    try:
        database_url = database_create(args.database)
        created_database = True
        corpus = Corpus(SEED)
        folder, categories = day_papers_write(corpus, workdir / "days")
        stubs["arxiv"] = replay_server_start(folder)  # up until teardown: sending is watched too
        shared = environment(workdir, args, database_url, stubs["arxiv"])
        os.environ.update(shared)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter.settings")
        import django

        django.setup()
        logging.disable(logging.INFO)
        for name in ("httpx", "httpx2", "openai"):
            logging.getLogger(name).setLevel(logging.WARNING)
        from django.conf import settings
        from django.core.management import call_command

        from devtools.esp_stub import esp_stub_start
        from devtools.llm_stub import llm_stub_start
        from digests.catalogue.topics import topics_import

        call_command("migrate", verbosity=0)
        catalogue = Path(settings.BASE_DIR) / "digests" / "catalogue" / "default_topics.json"
        topics_import(data=json.loads(catalogue.read_text("utf-8")))
        stubs["esp"] = esp_stub_start()
        stubs["esp"].latency = args.esp_latency
        stubs["llm"] = llm_stub_start()
        stubs["prepare"] = lambda: day_ingest_and_enrich(
            stubs["arxiv"], categories, args.enrich, stubs["llm"].base_url
        )
        processes_env = {
            **os.environ,
            **shared,
            "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
            "ANYMAIL_POSTMARK_SERVER_TOKEN": stubs["esp"].token,
            "ANYMAIL_POSTMARK_API_URL": stubs["esp"].api_url,
            "LOG_LEVEL": "INFO",
        }
        if args.enrich == "llm":
            processes_env |= {"OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": stubs["llm"].base_url}
        print(
            f"machine                {os.cpu_count()} cores, shared with other test runs "
            f"(noisy figures); ESP stub latency {args.esp_latency * 1000:.0f} ms"
        )
        for count in args.subscribers:
            for workers in args.workers:
                result = run_one(
                    count, workers, corpus=corpus, args=args, env=processes_env, stubs=stubs
                )
                results.append(result)
                report(result, papers=PAPERS, chunk_size=args.chunk_size, pool=args.pool)
        summary(results)
        asked = sum(len(r.arxiv_requests_while_sending) for r in results)
        if asked:
            raise SystemExit(f"NOT OK: {asked} arXiv requests while sending (see above)")
    except KeyboardInterrupt:
        print("\ninterrupted: tearing down", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        with signals_deferred():
            teardown(stubs, created_database, workdir, args)


def teardown(
    stubs: dict[str, Any], created_database: bool, workdir: Path, args: argparse.Namespace
) -> None:
    """Stop the stubs, close Django's connections, drop the database, empty the broker DB."""
    for name in ("esp", "llm"):
        if name in stubs:
            stubs[name].stop()
    if "arxiv" in stubs:
        stubs["arxiv"].shutdown()
        stubs["arxiv"].server_close()
    if "django" in sys.modules:
        from django.db import connections

        connections.close_all()
    if created_database:
        database_drop(args.database)
    redis_flush(args.broker_db)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
