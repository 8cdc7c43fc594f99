"""Staff sign-in throttling: failed admin logins are counted per client address and per
username in the cache (Redis with CACHE_URL, so every web process shares the count); past a
limit, sign-in is refused for the rest of the window, even with the right password, so that
guessing cannot go on until it succeeds."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from subscribers.ratelimit import client_ip

__all__ = ["FAILURES_PER_IP", "FAILURES_PER_USERNAME", "WINDOW_SECONDS", "login_refused"]

FAILURES_PER_IP = 20  # one address guessing across many accounts
FAILURES_PER_USERNAME = 5  # many addresses guessing one account
WINDOW_SECONDS = 15 * 60


def _keys(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    def key(scope: str, value: str) -> str:
        return f"adminlogin:{scope}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"

    return [
        (key("ip", client_ip(request)), FAILURES_PER_IP),
        (key("user", username.strip().lower()), FAILURES_PER_USERNAME),
    ]


def is_locked(request: HttpRequest, username: str) -> bool:
    """True when this address or this username has failed too often in the window."""
    keys = _keys(request, username)
    counts = cache.get_many([key for key, _ in keys])
    return any(counts.get(key, 0) >= limit for key, limit in keys)


def record_failure(request: HttpRequest, username: str) -> None:
    for key, _ in _keys(request, username):
        if not cache.add(key, 1, timeout=WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=WINDOW_SECONDS)


def login_refused(request: HttpRequest) -> HttpResponse | None:
    """The answer to a sign-in POST that must not be tried, or None to go ahead."""
    if request.method != "POST" or not is_locked(request, request.POST.get("username", "")):
        return None
    minutes = WINDOW_SECONDS // 60
    return HttpResponse(
        f"Too many failed sign-ins. Try again in {minutes} minutes.",
        status=429,
        content_type="text/plain; charset=utf-8",
    )


@receiver(user_login_failed, dispatch_uid="staff.login_throttle")
def _count_failure(sender: Any, credentials: dict, request: HttpRequest | None = None, **_: Any):
    if request is not None:
        record_failure(request, str(credentials.get("username", "")))
