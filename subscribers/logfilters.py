"""Gunicorn's access log without link tokens.

Django's own log records are scrubbed by `newsletter.logs.TokenScrubber` (LOGGING in settings),
but gunicorn writes its access log itself, one line per request with the full path: every
magic link, unsubscribe link and private feed address that is opened. Start gunicorn with
`--logger-class subscribers.logfilters.ScrubbingGunicornLogger` to cut them from those lines.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

from newsletter.logs import scrub

__all__ = ["ScrubbingGunicornLogger"]

_URL_ATOMS = ("r", "U", "q", "f", "{raw_uri}e", "{path_info}e", "{query_string}e")


class ScrubbingGunicornLogger(GunicornLogger):
    """Gunicorn's logger, with the request line, path, query and referrer scrubbed."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in _URL_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = scrub(atoms[key])
        return atoms
