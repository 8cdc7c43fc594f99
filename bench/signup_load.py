"""Benchmark sign-up and magic-link requests under bounded concurrent load, served by gunicorn.

    .venv/bin/python bench/signup_load.py [--requests 1000] [--hammer 200] [--concurrency 16]
        [--web-workers 2]

What runs: gunicorn (`python -m gunicorn -c python:newsletter.gunicorn_conf newsletter.wsgi`,
WEB_WORKERS=2 and the default WEB_THREADS) on a free loopback port, against a throw-away
PostgreSQL database (`bench_signup_load`, migrated, static files collected, dropped at the end),
with CACHE_URL on Redis DB 11 so both gunicorn processes share the rate limits, and
TRUSTED_PROXY_COUNT=1 so each simulated client's X-Forwarded-For is its address. Each of
`--concurrency` threads holds one requests.Session that GETs the form first (the CSRF cookie and
the form's token), then POSTs.

Scenarios, each POSTing to /subscribe/ or /signin/:
  throughput: `--requests` POSTs, each from its own client IP and for its own address;
  one IP hammering: `--hammer` POSTs from a single IP: the per-IP limit must cap the 200s;
  one address from many IPs: `--hammer` POSTs for a single address: the per-address limit
  must cap the sign-in 200s, and the confirmation mails written for that address at sign-up.

Mail: sign-up confirmations are sent in the request by the default e-mail backend, one .eml
file each in a temporary EMAIL_FILE_PATH: they are counted. A sign-in enqueues
`signin_link_deliver` on the broker (CELERY_BROKER_URL = Redis DB 13) and answers at once; no
worker runs here, so the tasks stay queued: they are counted on the broker and then flushed.
Figures are from a 2-core machine shared with other people's test runs: treat them as noisy.
"""

from __future__ import annotations

import argparse
import email
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

import redis
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._workers import (
    MemorySampler,
    database_create,
    database_drop,
    free_port,
    percentile,
    process_stop,
    redis_flush,
    signals_deferred,
    sigterm_interrupts,
    wait_until,
)

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "bench_signup_load"
CACHE_DB, BROKER_DB = 11, 13  # not 12: tests/test_faults.py uses it
TOKEN_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TIMEOUT = 30
TARGET = "target@example.org"  # the address of the per-address sign-up scenario


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    ip: Callable[[int], str]
    address: Callable[[int], str]
    limit: tuple[int, int] | None = None  # (count, seconds) that must cap the 200s


@dataclass
class Outcome:
    scenario: Scenario
    requests: int
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)

    @property
    def allowed(self) -> int | None:
        """The most 200s the limit allows over this run's windows."""
        if self.scenario.limit is None:
            return None
        count, seconds = self.scenario.limit
        return count * (int(self.wall // seconds) + 1)

    @property
    def held(self) -> bool | None:
        allowed = self.allowed
        return None if allowed is None else self.statuses[200] <= allowed


def ip_of(n: int) -> str:
    """A distinct client address per n (10.0.0.0/8)."""
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


# ---------------------------------------------------------------- the server


def server_environment(workdir: Path, port: int, database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "CACHE_URL": redis_flush(CACHE_DB),
        "CELERY_BROKER_URL": redis_flush(BROKER_DB),
        "TRUSTED_PROXY_COUNT": "1",
        "DATA_DIR": str(workdir / "data"),
        "EMAIL_FILE_PATH": str(workdir / "outbox"),
        "SECRET_KEY": "bench-signup-load-not-secret",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }


def database_prepare() -> dict[str, tuple[int, int]]:
    """Migrate and collect static files (in this process); return the endpoints' limits."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from subscribers.views.account import SIGNUP_PER_ADDRESS, SIGNUP_PER_IP
    from subscribers.views.signin import SIGNIN_PER_ADDRESS, SIGNIN_PER_IP

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    connections.close_all()
    return {
        limit.scope: (limit.count, limit.seconds)
        for limit in (SIGNUP_PER_IP, SIGNUP_PER_ADDRESS, SIGNIN_PER_IP, SIGNIN_PER_ADDRESS)
    }


def gunicorn_start(env: dict[str, str], log: Path, processes: list[subprocess.Popen]) -> None:
    """Start gunicorn in a session of its own (into the caller's list); wait for /healthz."""
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:newsletter.gunicorn_conf",
        "newsletter.wsgi",
    ]  # fmt: skip
    with log.open("w") as out:
        processes.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    url = f"http://{env['WEB_BIND']}/healthz"

    def up() -> bool:
        if processes[-1].poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-2000:]}")
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, seconds=60, what="gunicorn to answer /healthz")


# ---------------------------------------------------------------- the load


class Clients:
    """One requests.Session per thread, each with the CSRF cookie and token of a first GET."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.local = threading.local()

    def session(self) -> tuple[requests.Session, str]:
        if not hasattr(self.local, "session"):
            session = requests.Session()
            page = session.get(f"{self.base}/subscribe/", timeout=TIMEOUT)
            page.raise_for_status()
            match = TOKEN_FIELD.search(page.text)
            if match is None:
                raise RuntimeError("no CSRF token in the sign-up form")
            self.local.session, self.local.token = session, match.group(1)
        return self.local.session, self.local.token


def form_data(path: str, address: str, token: str) -> dict[str, str]:
    data = {"csrfmiddlewaretoken": token, "email": address, "website": ""}
    if path == "/subscribe/":
        data |= {
            "language": "en",
            "keywords": "reinforcement learning, sparse attention",
            "categories": "cs.CL\ncs.LG",
            "timezone": "Europe/Berlin",
            "delivery_time": "07:30",
            "frequency": "daily",
        }
    return data


def post_one(clients: Clients, scenario: Scenario, n: int) -> tuple[float, int | str]:
    """One POST; (seconds, status code) or (seconds, error class name)."""
    started = time.perf_counter()
    try:
        session, token = clients.session()
        response = session.post(
            f"{clients.base}{scenario.path}",
            data=form_data(scenario.path, scenario.address(n), token),
            headers={"X-Forwarded-For": scenario.ip(n)},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        return time.perf_counter() - started, response.status_code
    except (requests.RequestException, RuntimeError) as error:
        return time.perf_counter() - started, type(error).__name__


def load_run(base: str, scenario: Scenario, count: int, concurrency: int, start: int) -> Outcome:
    """`count` POSTs of `scenario` from `concurrency` threads (n = start … start + count - 1)."""
    clients = Clients(base)
    outcome = Outcome(scenario=scenario, requests=count)
    pool = ThreadPoolExecutor(max_workers=concurrency)
    try:
        # Every thread opens its session (the GET) before the clock starts: the barrier keeps
        # each of them busy until all have taken one of these tasks.
        barrier = threading.Barrier(concurrency)

        def warm(_n: int) -> None:
            clients.session()
            barrier.wait(timeout=TIMEOUT)

        list(pool.map(warm, range(concurrency)))
        started = time.perf_counter()
        results = list(
            pool.map(lambda n: post_one(clients, scenario, n), range(start, start + count))
        )
        outcome.wall = time.perf_counter() - started
    finally:
        # On Ctrl-C, drop the requests not yet started rather than wait for all of them.
        pool.shutdown(wait=True, cancel_futures=True)
    for seconds, status in results:
        if isinstance(status, int):
            outcome.statuses[status] += 1
            outcome.latencies.append(seconds)
        else:
            outcome.errors[status] += 1
    return outcome


def scenarios(limits: dict[str, tuple[int, int]]) -> list[tuple[Scenario, str]]:
    """Each scenario with its size: 'requests' (throughput) or 'hammer' (a limit)."""

    def one_ip(_n: int) -> str:
        return "192.0.2.1"  # TEST-NET-1: a single client

    def addresses(prefix: str) -> Callable[[int], str]:
        return lambda n: f"{prefix}{n}@example.org"

    def one_address(address: str) -> Callable[[int], str]:
        return lambda _n: address

    return [
        (Scenario("sign-up, many IPs", "/subscribe/", ip_of, addresses("new")), "requests"),
        (Scenario("sign-in, many IPs", "/signin/", ip_of, addresses("who")), "requests"),
        (
            Scenario(
                "sign-up, one IP", "/subscribe/", one_ip, addresses("flood"), limits["signup-ip"]
            ),
            "hammer",
        ),
        (
            Scenario(
                "sign-in, one IP", "/signin/", one_ip, addresses("probe"), limits["signin-ip"]
            ),
            "hammer",
        ),
        (
            Scenario(
                "sign-in, one address",
                "/signin/",
                ip_of,
                one_address("victim@example.org"),
                limits["signin-address"],
            ),
            "hammer",
        ),
        # Always 200 (the page says nothing about the address); the mails written are capped.
        (
            Scenario("sign-up, one address", "/subscribe/", ip_of, one_address(TARGET)),
            "hammer",
        ),
    ]


# ---------------------------------------------------------------- mail and broker


def mails_written(outbox: Path) -> Counter:
    """The .eml files written, by recipient."""
    recipients: Counter = Counter()
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        recipients[str(message["To"])] += 1
    return recipients


def tasks_queued() -> int:
    """Tasks waiting on the broker's default queue (nobody consumes them here)."""
    client = redis.Redis.from_url(f"redis://127.0.0.1:6379/{BROKER_DB}")
    try:
        return int(client.llen("celery"))
    finally:
        client.close()


# ---------------------------------------------------------------- report


def report(outcome: Outcome) -> None:
    ms = [s * 1000 for s in outcome.latencies]
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(outcome.statuses.items()))
    errors = ", ".join(f"{kind}: {n}" for kind, n in sorted(outcome.errors.items())) or "0"
    print()
    print(f"{outcome.scenario.name} (POST {outcome.scenario.path})")
    print(f"  requests             {outcome.requests} in {outcome.wall:.2f} s")
    print(f"  requests / second    {outcome.requests / outcome.wall:.1f}")
    print(
        f"  latency ms           p50 {percentile(ms, 0.5):.0f}, p95 {percentile(ms, 0.95):.0f}, "
        f"p99 {percentile(ms, 0.99):.0f}, max {max(ms, default=0):.0f}"
    )
    print(f"  status codes         {codes}")
    print(f"  errors               {errors}")
    if outcome.scenario.limit is not None:
        count, seconds = outcome.scenario.limit
        print(
            f"  limit held           {'yes' if outcome.held else 'NO'} "
            f"({outcome.statuses[200]} × 200 ≤ {outcome.allowed}: {count} per {seconds} s)"
        )


def summary(
    outcomes: list[Outcome],
    *,
    mails: Counter,
    queued: int,
    limits: dict[str, tuple[int, int]],
    memory: dict[str, float],
) -> None:
    by_name = {o.scenario.name: o for o in outcomes}
    signup_ok = sum(o.statuses[200] for o in outcomes if o.scenario.path == "/subscribe/")
    signin_ok = sum(o.statuses[200] for o in outcomes if o.scenario.path == "/signin/")
    one_address = mails[TARGET]
    address_cap = limits["signup-address"][0]
    # one confirmation per new address accepted, plus those for the one address
    expected_mails = (
        by_name["sign-up, many IPs"].statuses[200]
        + by_name["sign-up, one IP"].statuses[200]
        + one_address
    )
    held = [o.held for o in outcomes if o.held is not None] + [one_address <= address_cap]
    print()
    print("summary")
    for o in outcomes:
        rate = o.requests / o.wall
        p95 = percentile([s * 1000 for s in o.latencies], 0.95)
        errors = sum(o.errors.values())
        limit = "" if o.held is None else f", limit held: {'yes' if o.held else 'NO'}"
        print(
            f"  {o.scenario.name:<22} {rate:>7.1f} req/s, p95 {p95:>5.0f} ms, "
            f"200: {o.statuses[200]:>5}, 429: {o.statuses[429]:>4}, errors: {errors}{limit}"
        )
    print(
        f"  confirmation mails     {sum(mails.values())} .eml files for {signup_ok} sign-up 200s "
        f"({'as expected' if sum(mails.values()) == expected_mails else 'UNEXPECTED'}: "
        f"one per new address + those for the one address)"
    )
    print(
        f"  one address, sign-up   {one_address} confirmation mails for "
        f"{by_name['sign-up, one address'].statuses[200]} accepted POSTs "
        f"(limit {address_cap} per {limits['signup-address'][1]} s: "
        f"{'held' if one_address <= address_cap else 'NOT HELD'})"
    )
    print(
        f"  sign-in tasks queued   {queued} on the broker for {signin_ok} sign-in 200s "
        f"({'equal' if queued == signin_ok else 'DIFFERENT'}; no worker here: not delivered)"
    )
    for label, mib in sorted(memory.items()):
        print(f"  peak RSS, {label:<32} {mib:.0f} MiB")
    print(f"  limits held            {'yes' if all(held) else 'NO'}")


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="POSTs per throughput run")
    parser.add_argument("--hammer", type=int, default=200, help="POSTs per limit scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=2, help="WEB_WORKERS")
    args = parser.parse_args()
    sigterm_interrupts()

    workdir = Path(tempfile.mkdtemp(prefix="bench-signup-load-"))
    processes: list[subprocess.Popen] = []
    created_database = False
    try:
        port = free_port()
        env = server_environment(workdir, port, database_create(DATABASE))
        created_database = True
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter.settings")
        limits = database_prepare()
        env = {
            **os.environ,
            **env,
            "WEB_BIND": f"127.0.0.1:{port}",
            "WEB_WORKERS": str(args.web_workers),
        }
        gunicorn_start(env, workdir / "gunicorn.log", processes)
        threads = os.environ.get("WEB_THREADS", "4")
        print(
            f"machine                {os.cpu_count()} cores, shared with other test runs "
            f"(noisy figures)"
        )
        print(
            f"server                 gunicorn, {args.web_workers} workers × {threads} threads "
            f"on 127.0.0.1:{port}; PostgreSQL; rate limits in Redis DB {CACHE_DB}"
        )
        print(f"clients                {args.concurrency} concurrent sessions")
        sampler = MemorySampler({processes[0].pid: "gunicorn"}, child_label="worker").start()
        base = f"http://127.0.0.1:{port}"
        outcomes = []
        start = 0
        for scenario, size in scenarios(limits):
            count = args.requests if size == "requests" else args.hammer
            outcomes.append(load_run(base, scenario, count, args.concurrency, start))
            start += count
            report(outcomes[-1])
        memory = sampler.stop()
        summary(
            outcomes,
            mails=mails_written(workdir / "outbox"),
            queued=tasks_queued(),
            limits=limits,
            memory=memory,
        )
    except KeyboardInterrupt:
        print("\ninterrupted: tearing down", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        with signals_deferred():
            teardown(processes, created_database, workdir)


def teardown(processes: list[subprocess.Popen], created_database: bool, workdir: Path) -> None:
    """Stop gunicorn, drop the database, empty the Redis DBs, remove the temporary folder."""
    for process in processes:
        process_stop(process, timeout=30)
    if "django" in sys.modules:
        from django.db import connections

        connections.close_all()
    if created_database:
        database_drop(DATABASE)
    redis_flush(CACHE_DB)
    redis_flush(BROKER_DB)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
