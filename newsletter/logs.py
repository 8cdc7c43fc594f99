"""Structured logs: one JSON object per line (LOG_FORMAT=json), with the ids of what is being
worked on (digest, subscriber) attached by `log_context`, and link tokens scrubbed from any
message, so a log line never carries a token that would act for a reader."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "ContextFilter",
    "JSONFormatter",
    "PlainFormatter",
    "TokenScrubber",
    "log_context",
    "scrub",
]

_context: contextvars.ContextVar[dict[str, object]] = contextvars.ContextVar("log_context")

# Any path segment or query value that looks like a signed token or a random key: 20+ characters
# of the URL-safe alphabet Django's signing and `secrets.token_urlsafe` use. arXiv ids, slugs and
# author names are shorter or hold other characters.
_TOKEN_SEGMENT = re.compile(r"(?<=/)\.?[A-Za-z0-9_\-:]{20,}(?=[/?.\s\"']|$)")
_TOKEN_QUERY = re.compile(r"(?<=[?&])((?:token|key|sig)=)[^&\s\"']+")


def scrub(text: str) -> str:
    """`text` with link tokens replaced by "[token]"."""
    return _TOKEN_QUERY.sub(r"\1[token]", _TOKEN_SEGMENT.sub("[token]", text))


@contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Attach ids (digest_id=…, subscriber_id=…) to every log record written inside."""
    reset = _context.set({**_context.get({}), **ids})
    try:
        yield
    finally:
        _context.reset(reset)


class ContextFilter(logging.Filter):
    """Copy the current `log_context` ids onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get({}).items():
            setattr(record, name, value)
        record.context_ids = dict(_context.get({}))
        return True


class TokenScrubber(logging.Filter):
    """Rewrite each record's message with link tokens removed (Django logs 4xx paths)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "context_ids", {}),
        }
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """A readable line for a terminal, with the ids of `log_context` at its end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = getattr(record, "context_ids", None)
        if ids:
            line += " [" + " ".join(f"{name}={value}" for name, value in ids.items()) + "]"
        return line
