"""Politeness towards arXiv: the pause between requests, timeouts, which errors are retried."""

from __future__ import annotations

import socket
import threading

import pytest
import requests

from digests.arxiv import client as arxiv_http
from digests.arxiv.client import (
    ArxivUnavailable,
    PoliteSession,
    Throttle,
    is_transient,
    polite_retry,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(arxiv_http.time, "time", fake.time)
    return fake


def test_the_second_request_waits_out_the_delay(clock):
    throttle = Throttle(3.0, sleep=clock.sleep)

    throttle.wait()
    clock.now += 1.0  # one second of work
    throttle.wait()

    assert clock.sleeps == [2.0]


def test_the_delay_is_shared_by_every_throttle_on_the_same_cache(clock):
    # two workers, each with its own throttle, one cache between them
    first, second = Throttle(3.0, sleep=clock.sleep), Throttle(3.0, sleep=clock.sleep)

    first.wait()
    second.wait()

    assert clock.sleeps == [3.0]


def test_no_delay_means_no_wait(clock):
    throttle = Throttle(0, sleep=clock.sleep)
    throttle.wait()
    throttle.wait()
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("status", "transient"), [(429, True), (500, True), (503, True), (400, False), (404, False)]
)
def test_only_429_and_5xx_are_transient(status, transient):
    response = requests.Response()
    response.status_code = status
    assert is_transient(requests.HTTPError(response=response)) is transient


def test_timeouts_and_refused_connections_are_transient():
    assert is_transient(requests.ReadTimeout())
    assert is_transient(requests.ConnectionError())
    assert not is_transient(ValueError())


@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/rss/cs.CL"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_hung_connection_times_out_and_is_retried_then_reported(silent_server, monkeypatch):
    # given a session with a short timeout against a server that never answers
    monkeypatch.setattr(arxiv_http, "REQUEST_TIMEOUT", (0.2, 0.2))
    session = PoliteSession(Throttle(0))

    @polite_retry(attempts=3)
    def fetch() -> requests.Response:
        return session.get(silent_server)

    # when fetched, then every try timed out and the error says arXiv did not answer
    with pytest.raises(ArxivUnavailable, match="did not answer after 3 tries"):
        fetch()
    assert session.request_count == 3


def test_a_permanent_error_is_not_retried():
    calls = []

    @polite_retry(attempts=5)
    def fetch() -> None:
        calls.append(1)
        response = requests.Response()
        response.status_code = 400
        raise requests.HTTPError(response=response)

    with pytest.raises(requests.HTTPError):
        fetch()
    assert len(calls) == 1


def test_the_pause_is_kept_in_a_shared_redis_cache(clock, settings):
    # given the cache every worker shares (CACHE_URL=redis://…)
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, db=14)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (make test starts it)")
    client.flushdb()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/14",
        }
    }

    # when one worker asks, then another
    Throttle(3.0, sleep=clock.sleep).wait()
    Throttle(3.0, sleep=clock.sleep).wait()

    # then the second waited for the first, through the time stored in Redis
    assert clock.sleeps == [3.0]
    assert client.keys("*arxiv:throttle:last*")
    client.flushdb()
