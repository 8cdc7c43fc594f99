"""gunicorn's settings for the web process: `gunicorn -c python:newsletter.gunicorn_conf …`.

Every value can be overridden on the command line; WEB_BIND, WEB_WORKERS and WEB_THREADS come
from the environment. The access log goes through a logger that scrubs link tokens from paths.
"""

from __future__ import annotations

import os

from gunicorn.glogging import Logger

from newsletter.logs import scrub

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
accesslog = "-"
# The TLS proxy in front sets X-Forwarded-Proto; trust it only from the proxies we name.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
timeout = 30
graceful_timeout = 20


class ScrubbingLogger(Logger):
    """gunicorn's logger, with tokens removed from the request line, path, query and referer."""

    def atoms(self, resp, req, environ, request_time) -> dict:  # gunicorn's signature
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "{raw_uri}e", "{path_info}e", "{query_string}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = scrub(atoms[key])
        if isinstance(atoms.get("{referer}i"), str):
            atoms["{referer}i"] = scrub(atoms["{referer}i"])
        return atoms


logger_class = ScrubbingLogger
