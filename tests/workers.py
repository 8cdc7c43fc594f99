"""Real processes for the worker and fault tests: `celery worker`s, a Redis server of their own,
and the plumbing to publish to any broker, wait on a condition and read what the workers said."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from celery import Task
from django.conf import settings
from django.db import connection
from kombu.common import ignore_errors

from newsletter.celery import app
from tests.conftest import REPO

__all__ = ["RedisServer", "Worker", "broker_reachable", "database_url", "publish", "wait_for"]


def database_url() -> str:
    """The test database, as the worker processes are to reach it."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll `condition` until it holds; fail the test, naming `what`, after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.02)


def broker_reachable(url: str) -> bool:
    """One quick connection attempt, no retries."""
    with app.connection_for_write(url) as conn:
        try:
            conn.ensure_connection(max_retries=1, timeout=3)
        except conn.connection_errors:
            return False
    return True


def publish(task: Task, *args: object, broker_url: str, queue: str) -> None:
    """Queue `task(*args)` on `queue` of any broker, not only the one the settings name."""
    with app.connection_for_write(broker_url) as conn:
        task.apply_async(args=args, queue=queue, connection=conn)


# `celery worker`, with the tasks it queues itself (retries at a later time, a tick's chunks)
# routed to its own queue too: on a shared broker, nothing goes to the default queue.
_WORKER_MAIN = (
    "import sys\n"
    "from newsletter.celery import app\n"
    "app.conf.task_default_queue = sys.argv[1]\n"
    "app.worker_main(sys.argv[2:])\n"
)


class Worker:
    """`celery worker` subprocesses on one queue of their own, against the test database.

    Each is a solo pool (one task at a time, in the process itself, and one message taken ahead
    of it: concurrency 1 makes the prefetch 1) whose PostgreSQL sessions carry the queue's name
    as their application_name, so a test can find and cut them."""

    def __init__(self, tmp_path: Path, *, broker_url: str | None = None, **env: str) -> None:
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.broker_url = broker_url or settings.CELERY_BROKER_URL
        self.outbox = tmp_path / "worker-outbox"
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "EMAIL_FILE_PATH": str(self.outbox),
            "DATA_DIR": str(tmp_path / "worker-data"),
            "PGAPPNAME": self.queue,  # read by libpq
            **env,
        }
        self.processes: list[subprocess.Popen] = []

    def log(self, number: int) -> Path:
        return self.tmp_path / f"worker-{number}.log"

    def logs(self) -> str:
        return "".join(self.log(n).read_text() for n in range(1, len(self.processes) + 1))

    def start(self) -> subprocess.Popen:
        number = len(self.processes) + 1
        with self.log(number).open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_MAIN, self.queue, "worker", "--pool", "solo",
                 "--concurrency", "1", "--queues", self.queue, "--loglevel", "INFO",
                 "--without-gossip", "--without-mingle", "--hostname", f"{self.queue}-{number}@%h"],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.processes.append(process)
        return process

    def wait_ready(self, seconds: float = 60) -> None:
        """Wait until the last worker started says it is ready (connected, consuming)."""
        number = len(self.processes)
        process = self.processes[-1]

        def ready() -> bool:
            if process.poll() is not None:
                pytest.fail(f"worker {number} exited:\n{self.log(number).read_text()[-2000:]}")
            return " ready." in self.log(number).read_text()

        wait_for(ready, seconds, f"worker {number} to be ready")

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL: no goodbye to the broker, no ack, no cleanup."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for number, process in enumerate(self.processes, start=1):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.kill(process)
            print(f"--- worker {number}:\n" + self.log(number).read_text()[-2000:])
        self.queue_delete()

    def queue_delete(self) -> None:
        """Leave no queue behind on a shared broker (tasks due later are still in it)."""
        with app.connection_for_write(self.broker_url) as conn:
            ignore_errors(conn, lambda: conn.default_channel.queue_delete(self.queue))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A Redis server of the test's own on a free loopback port, keeping nothing on disk, so it
    can be killed and started again without touching the Redis the other tests share."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = _free_port()
        self.tmp_path = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.tmp_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(self._answers, 10, f"redis-server on port {self.port}")

    def _answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL: everything queued in it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
