"""Keep link secrets out of logs: signed tokens and feed keys are cut from logged paths.

Django's `django.request` logger writes the path of every 4xx and 5xx response ("Bad Request:
/signin/<token>/"), runserver's `django.server` and gunicorn's access log write every path.
Whoever reads those logs must not be able to sign in as a subscriber or read their feed.

    LOGGING["filters"] = {"redact_tokens": {"()": "subscribers.logfilters.RedactTokens"}}
    LOGGING["handlers"]["console"]["filters"] = ["redact_tokens"]
    gunicorn … --logger-class subscribers.logfilters.RedactingGunicornLogger
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

__all__ = ["REDACTED", "RedactTokens", "RedactingGunicornLogger", "redact_tokens"]

REDACTED = "[redacted]"

# Django's signed tokens always hold a ":" (value:signature, value:timestamp:signature);
# a path segment of 20+ characters with one is a token. Feed keys have no ":", but a fixed place.
_SIGNED = re.compile(r"(?<=/)(?=[^/?#\s\"']*(?::|%3[aA]))[^/?#\s\"']{20,}")
_FEED_KEY = re.compile(r"(?<=/feed/)[^/?#\s\"']+(?=\.atom)")


def redact_tokens(text: str) -> str:
    """The text with every token-like path segment replaced by [redacted]."""
    return _FEED_KEY.sub(REDACTED, _SIGNED.sub(REDACTED, text))


class RedactTokens(logging.Filter):
    """A logging filter that rewrites a record's message without the tokens it holds."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to the formatter
            return True
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class RedactingGunicornLogger(GunicornLogger):
    """Gunicorn's logger, with the request line, path and query of its access log redacted."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "{raw_uri}e", "{path_info}e", "{request_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_tokens(atoms[key])
        return atoms
