"""Logs: ids of the digest and subscriber on each line, JSON when asked, never a link token."""

from __future__ import annotations

import gzip
import io
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sentry_sdk

from newsletter.errors import sentry_init
from newsletter.logs import ContextFilter, JSONFormatter, TokenScrubber, log_context, scrub
from subscribers.tokens import unsubscribe_token


def _console_handler() -> logging.Handler:
    """The handler settings.LOGGING put on the root logger."""
    for handler in logging.getLogger().handlers:
        if any(isinstance(f, TokenScrubber) for f in handler.filters):
            return handler
    raise AssertionError("settings.LOGGING did not install the token scrubber")


@pytest.fixture
def console():
    handler = _console_handler()
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_json_line_carries_the_ids_of_its_context():
    # given the JSON formatter behind the context filter
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("tests.logs.json")
    logger.addHandler(handler)
    logger.propagate = False

    # when a line is written inside a digest's context, and one outside
    with log_context(digest_id=42, subscriber_id=7):
        logger.warning("transient send error, queued again")
    logger.warning("outside")

    # then the first names both ids, the second none
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "transient send error, queued again"
    assert (first["digest_id"], first["subscriber_id"], first["level"]) == (42, 7, "WARNING")
    assert "digest_id" not in second


@pytest.mark.django_db
def test_a_tampered_link_is_logged_without_its_token(client, console):
    # given a real unsubscribe token, altered
    token = unsubscribe_token(subscriber_id=12345, email="ada@example.org")[:-3] + "xyz"

    # when a mail scanner fetches it and Django logs the 400
    response = client.get(f"/u/{token}/")

    # then the path is in the log, the token is not
    assert response.status_code == 400
    logged = console.getvalue()
    assert "Bad Request: /u/[token]/" in logged
    assert token not in logged
    assert token[:20] not in logged


def test_scrub_keeps_short_ids_and_removes_tokens():
    token = unsubscribe_token(subscriber_id=9, email="ada@example.org")
    assert scrub(f"/u/{token}/") == "/u/[token]/"
    assert scrub("/papers/2606.18831v2/") == "/papers/2606.18831v2/"
    assert scrub("/feed/?key=abc123") == "/feed/?key=[token]"


class _EnvelopeSink(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_errors_reach_sentry_without_tokens_or_addresses():
    # given Sentry pointed at a local server standing in for it
    server = HTTPServer(("127.0.0.1", 0), _EnvelopeSink)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    dsn = f"http://publickey@127.0.0.1:{server.server_port}/1"
    token = unsubscribe_token(subscriber_id=5, email="ada@example.org")
    sentry_init(dsn=dsn, environment="test")
    try:
        # when an error about a reader's link is captured
        try:
            raise ValueError(f"could not unsubscribe via /u/{token}/")
        except ValueError as error:
            sentry_sdk.capture_exception(error)
        sentry_sdk.flush(timeout=5)
    finally:
        sentry_sdk.init(dsn=None)
        server.shutdown()

    # then one event arrived, naming the error but not the token
    body = b"".join(_EnvelopeSink.received).decode()
    assert "could not unsubscribe via /u/[token]/" in body
    assert token not in body
