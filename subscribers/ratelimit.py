"""Fixed-window rate limits kept in the cache (Redis when CACHE_URL names one, so every web
process shares the count). Keys are hashed: addresses and IPs never sit in the cache in clear."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

__all__ = ["Limit", "client_ip", "limit_hit"]


@dataclass(frozen=True)
class Limit:
    """At most `count` hits per `seconds` for one key of this scope."""

    scope: str
    count: int
    seconds: int


def _key(limit: Limit, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"ratelimit:{limit.scope}:{digest}"


def limit_hit(limit: Limit, value: str) -> bool:
    """Count one hit for `value`; True when it is over the limit (and must be refused)."""
    key = _key(limit, value)
    if cache.add(key, 1, timeout=limit.seconds):
        return limit.count < 1
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add and incr: this hit opens a new window
        cache.add(key, 1, timeout=limit.seconds)
        hits = 1
    return hits > limit.count


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the proxy's X-Forwarded-For entry when
    TRUSTED_PROXY_COUNT says how many proxies of ours stand in front."""
    from django.conf import settings

    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")
