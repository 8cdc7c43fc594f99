"""Shared plumbing of the process benches (daily_run.py, signup_load.py): throw-away PostgreSQL
databases, private Redis DB indexes, subprocesses started in sessions of their own and stopped
by id, and peak memory read from /proc.

Nothing here imports Django: the benches set the environment first, then set Django up.
"""

from __future__ import annotations

import math
import os
import resource
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

__all__ = [
    "PG_SERVER",
    "REDIS_SERVER",
    "MemorySampler",
    "cpu_seconds",
    "database_create",
    "database_drop",
    "free_port",
    "percentile",
    "process_stop",
    "redis_flush",
    "self_peak_mib",
    "self_peak_reset",
    "signals_deferred",
    "sigterm_interrupts",
    "wait_until",
]

PG_SERVER = "postgres://postgres@127.0.0.1:5432"
REDIS_SERVER = "redis://127.0.0.1:6379"
BENCH_REDIS_DBS = range(10, 14)  # the indexes set aside for benches; never another one


def database_create(name: str) -> str:
    """Create an empty database `name` (dropping a leftover of an aborted run); return its URL."""
    database_drop(name)
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_SERVER}/{name}"


def database_drop(name: str) -> None:
    """Drop database `name` if it exists, closing whatever connections are still open on it."""
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_flush(db: int) -> str:
    """Empty Redis DB index `db` (one of the bench indexes); return its URL."""
    if db not in BENCH_REDIS_DBS:
        raise ValueError(f"Redis DB {db} is not one of the bench indexes {list(BENCH_REDIS_DBS)}")
    url = f"{REDIS_SERVER}/{db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_stop(process: subprocess.Popen, *, timeout: float = 30.0) -> None:
    """SIGTERM (a warm shutdown), then SIGKILL to its own process group if it lingers.

    The process must have been started with `start_new_session=True`: its group is then
    exactly it and the children it forked, nothing of anyone else's.
    """
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
        return
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    process.wait(timeout=10)


def _raise_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def sigterm_interrupts() -> None:
    """Make SIGTERM unwind like Ctrl-C, so the `finally` blocks tear everything down (and
    Ctrl-C too when started with SIGINT ignored, as a shell's background job is)."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while tearing down, so a second one cannot cut it short."""
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _status_kib(pid: int, name: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return None


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


@dataclass
class MemorySampler:
    """Peak resident memory (VmHWM, the kernel's high-water mark) of some processes and their
    children, read from /proc every `interval` seconds while they run and once more at `stop`."""

    roots: dict[int, str]  # pid -> label
    child_label: str = "child"
    interval: float = 0.5
    peaks_kib: dict[int, int] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        for root, label in self.roots.items():
            self._note(root, label)
            for number, child in enumerate(_children(root), start=1):
                self._note(child, f"{label} {self.child_label} {number}")

    def _note(self, pid: int, label: str) -> None:
        peak = _status_kib(pid, "VmHWM")
        if peak is not None:
            self.labels.setdefault(pid, label)
            self.peaks_kib[pid] = max(peak, self.peaks_kib.get(pid, 0))

    def stop(self) -> dict[str, float]:
        """Sample a last time; return {label (pid): peak MiB}."""
        self.sample()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return {
            f"{self.labels[pid]} (pid {pid})": kib / 1024 for pid, kib in self.peaks_kib.items()
        }


def cpu_seconds(pid: int) -> float:
    """CPU seconds process `pid` and its children have used (those it reaped and those alive),
    from /proc; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # fields[11:15]: utime, stime, cutime, cstime (after the state, field 3)
    ticks = sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(c) for c in _children(pid))


def self_peak_reset() -> bool:
    """Reset this process's VmHWM (Linux: write 5 to clear_refs), so a later reading is the
    peak of what follows; False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def self_peak_mib() -> float:
    """This process's peak RSS: VmHWM (since the last reset) where /proc has it."""
    kib = _status_kib(os.getpid(), "VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def wait_until(
    condition: Callable[[], bool], *, seconds: float, what: str, step: float = 0.2
) -> None:
    """Poll `condition()` until it is true; TimeoutError naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(step)
