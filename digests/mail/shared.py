"""Compiled cards shared by every process through the cache (CACHE_URL), so that a paper's card
is compiled once a day, not once per worker.

A card's key says everything it is compiled from (the paper as shown, the language, the excerpt
length); the cache key adds a fingerprint of the code and templates that compile it, so a
deployment with other templates never reads an older one's cards. With the default per-process
cache there is nothing to share: the composer's own dictionaries do the job alone. A cache that
does not answer costs the cards being compiled here, never a digest.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache as django_cache

__all__ = ["CARDS_TIMEOUT", "SharedCards"]

log = logging.getLogger(__name__)

CARDS_TIMEOUT = 3 * 24 * 3600  # seconds: a day's cards outlive the day's sending


@cache
def _code_fingerprint() -> str:
    """What compiles a card besides its key: the e-mail templates, the translations, this
    package and the modules it renders with, mjml's version and the site's address."""
    base = Path(settings.BASE_DIR)
    files = sorted(
        [
            *(base / "templates" / "email").glob("*"),
            *(base / "locale").rglob("*.mo"),
            *(base / "digests" / "mail").glob("*.py"),
            base / "digests" / "render.py",
            base / "digests" / "shown.py",
        ]
    )
    digest = hashlib.blake2b(digest_size=12)
    for path in files:
        digest.update(path.relative_to(base).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(importlib.metadata.version("mjml-python").encode())
    digest.update(settings.SITE_URL.encode())
    return digest.hexdigest()


class SharedCards:
    """The cache's compiled cards: looked up many at a time, stored as they are compiled."""

    def __init__(self) -> None:
        backend = settings.CACHES["default"]["BACKEND"]
        self.enabled = not backend.endswith(("LocMemCache", "DummyCache"))

    @staticmethod
    def _cache_key(kind: str, key: tuple) -> str:
        hashed = hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()
        return f"card:{kind}:{_code_fingerprint()}:{hashed}"

    def get_many(self, kind: str, keys: Iterable[tuple]) -> dict[tuple, Any]:
        """The cards of `keys` the cache holds (kind: "html" or "text"), by key."""
        if not self.enabled:
            return {}
        wanted = {self._cache_key(kind, k): k for k in keys}
        if not wanted:
            return {}
        try:
            found = django_cache.get_many(list(wanted))
        except Exception:  # any cache error: the cards are compiled here
            log.warning("shared cards: the cache did not answer; compiling here", exc_info=True)
            return {}
        return {wanted[name]: card for name, card in found.items()}

    def set_many(self, kind: str, cards: dict[tuple, Any]) -> None:
        if not self.enabled or not cards:
            return
        named = {self._cache_key(kind, key): card for key, card in cards.items()}
        try:
            django_cache.set_many(named, timeout=CARDS_TIMEOUT)
        except Exception:
            log.warning("shared cards: not stored in the cache", exc_info=True)
