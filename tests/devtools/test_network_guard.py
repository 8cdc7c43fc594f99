"""The network guard (tests/network_guard.py): loopback passes, the outside fails the test."""

from __future__ import annotations

import re
import socket
import textwrap

import pytest

from tests import network_guard
from tests.conftest import REPO
from tests.network_guard import OutsideConnection, is_loopback

pytest_plugins = ["pytester"]

TEST_NET = "203.0.113.1"  # TEST-NET-3 (RFC 5737): documentation only, never routed


@pytest.fixture
def no_real_connect(monkeypatch):
    """Record what would have reached the real `connect`: nothing may, for the outside."""
    reached: list[object] = []

    def real(_sock, address):
        reached.append(address)

    monkeypatch.setattr(network_guard, "_real_connect", real)
    monkeypatch.setattr(network_guard, "_real_connect_ex", real)
    monkeypatch.setattr(network_guard, "_real_create_connection", lambda a, *_, **__: real(0, a))
    return reached


def test_a_connection_to_the_outside_is_refused_before_it_is_made(no_real_connect):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(OutsideConnection, match=re.escape(TEST_NET)):
            sock.connect((TEST_NET, 80))
        with pytest.raises(OutsideConnection, match=re.escape(TEST_NET)):
            sock.connect_ex((TEST_NET, 443))
    with pytest.raises(OutsideConnection, match=re.escape(TEST_NET)):
        socket.create_connection((TEST_NET, 80), timeout=5)
    with (
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock,
        pytest.raises(OutsideConnection, match="2001:db8::1"),
    ):
        sock.connect(("2001:db8::1", 80, 0, 0))
    with pytest.raises(OutsideConnection, match=r"arxiv\.org"):
        socket.getaddrinfo("arxiv.org", 443)

    # not one reached the real socket: no packet left
    assert no_real_connect == []
    # and each was recorded, which fails the test unless it is taken, as here
    assert len(network_guard._taken()) == 5


def test_loopback_and_unix_sockets_pass(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        socket.create_connection(("localhost", port), timeout=5).close()
        with socket.socket() as client:
            assert client.connect_ex(("127.0.0.1", port)) == 0
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(tmp_path / "s"))
        listener.listen()
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(str(tmp_path / "s"))
    assert network_guard._taken() == []


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        (b"127.0.0.1", True),
        (TEST_NET, False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104
        ("2001:db8::1", False),
        ("arxiv.org", False),
        ("localhost.arxiv.org", False),
    ],
)
def test_what_counts_as_this_machine(host, loopback):
    assert is_loopback(host) is loopback


def test_a_refusal_the_code_swallows_still_fails_the_test(pytester, monkeypatch):
    # given a test whose code catches the refusal and carries on, as a quiet fetch would
    pytester.makepyfile(
        test_inner=textwrap.dedent(
            f"""
            import socket

            def test_swallowed():
                try:
                    socket.create_connection(("{TEST_NET}", 80), timeout=5)
                except Exception:
                    pass

            def test_caught_in_teardown(request):
                request.addfinalizer(lambda: test_swallowed())

            def test_loopback_only():
                with socket.socket() as listener:
                    listener.bind(("127.0.0.1", 0))
                    listener.listen()
                    socket.create_connection(listener.getsockname(), timeout=5).close()
            """
        )
    )
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)

    # when it runs with the guard
    result = pytester.runpytest_subprocess(
        "-p", "tests.network_guard", "-p", "no:django", "-p", "no:cacheprovider"
    )

    # then it fails all the same, naming the address; the loopback one passes
    result.assert_outcomes(passed=2, failed=1, errors=1)
    result.stdout.fnmatch_lines([f"*must not reach outside this machine*{TEST_NET}*"])
