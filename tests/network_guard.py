"""No test reaches outside this machine: a pytest plugin (loaded with `-p tests.network_guard`).

Every connection attempt is checked before it is made: loopback (127.0.0.0/8, ::1, `localhost`)
and Unix sockets pass; anything else raises `OutsideConnection` at once (no packet leaves) and
FAILS the test it happened in, even when the code under test caught the error and carried on
(a fetch that "fails quietly" and is retried later is exactly how a test reaches arXiv unseen).

Names other than `localhost` are refused before they are resolved (`getaddrinfo`), so no DNS
query leaves either. Processes the tests start (Celery workers, gunicorn, Chromium) are not
covered: their settings are the tests' to point at local servers.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["OutsideConnection", "is_loopback"]

_ALLOWED_NAMES = {"localhost", "localhost.", "ip6-localhost", "ip6-loopback"}
_attempts: list[str] = []
_lock = threading.Lock()


class OutsideConnection(AssertionError):
    """A test tried to connect to a host that is not this machine."""


def is_loopback(host: object) -> bool:
    """True for a loopback address or the name `localhost`; a name is never resolved here."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _ALLOWED_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: resolving it would already be a query to the outside
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def _refuse(what: str) -> OutsideConnection:
    message = f"the tests must not reach outside this machine: {what}"
    with _lock:
        _attempts.append(message)
    return OutsideConnection(message)


def _check(family: int, address: Any, how: str) -> None:
    if family == getattr(socket, "AF_UNIX", object()):
        return
    if family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        if not is_loopback(address[0]):
            raise _refuse(f"{how} to {address[0]!r} port {address[1]}")
        return
    raise _refuse(f"{how} to {address!r} (address family {family})")


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_create_connection = socket.create_connection
_real_getaddrinfo = socket.getaddrinfo


def _connect(self: socket.socket, address: Any) -> None:
    _check(self.family, address, "socket.connect")
    return _real_connect(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check(self.family, address, "socket.connect_ex")
    return _real_connect_ex(self, address)


def _create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    if not is_loopback(address[0]):
        raise _refuse(f"socket.create_connection to {address[0]!r} port {address[1]}")
    return _real_create_connection(address, *args, **kwargs)


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> list:
    # An address (loopback or not) resolves without a query; `connect` then judges it.
    if host is not None and not is_loopback(host):
        text = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(text.strip("[]"))
        except ValueError:
            if text:  # "" is the wildcard for a server's bind, not a lookup
                raise _refuse(f"a DNS lookup of {text!r}") from None
    return _real_getaddrinfo(host, *args, **kwargs)


_PATCHES = (
    (socket.socket, "connect", _connect),
    (socket.socket, "connect_ex", _connect_ex),
    (socket, "create_connection", _create_connection),
    (socket, "getaddrinfo", _getaddrinfo),
)
_patcher = pytest.MonkeyPatch()


def pytest_configure(config: pytest.Config) -> None:
    """From the start: fixtures of any scope, imports and threads are guarded too."""
    for target, name, replacement in _PATCHES:
        _patcher.setattr(target, name, replacement)


def pytest_unconfigure(config: pytest.Config) -> None:
    _patcher.undo()


def _taken() -> list[str]:
    with _lock:
        taken = list(_attempts)
        _attempts.clear()
    return taken


def _judged() -> Iterator[None]:
    """Fail the phase (setup, call or teardown) in which an attempt was made."""
    try:
        result = yield
    except BaseException as error:
        attempts = _taken()
        if attempts:
            raise OutsideConnection("\n".join(attempts)) from error
        raise
    attempts = _taken()
    if attempts:
        # The code under test swallowed the refusal: the test fails all the same.
        raise OutsideConnection("\n".join(attempts))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    # (an attempt a stray thread made between two tests is reported here, not dropped)
    return (yield from _judged())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _judged())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    return (yield from _judged())
