"""Who is signed in: a subscriber's session, opened by a magic link, never by a password.

The session stores the subscriber's id and a fingerprint of their address, so changing the
address or unsubscribing ends every session at once; a session lasts SESSION_MAX_AGE at most.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation

from newsletter.i18n import language_for_translation
from subscribers.models import Subscriber

__all__ = [
    "SESSION_KEY",
    "SubscriberLanguageMiddleware",
    "current_subscriber",
    "email_fingerprint",
    "sign_in",
    "sign_out",
    "signed_in_context",
    "subscriber_required",
]

SESSION_KEY = "subscriber"
SIGNED_IN_STATUSES = (Subscriber.Status.ACTIVE, Subscriber.Status.PENDING)


def email_fingerprint(email: str) -> str:
    """A keyed hash of the address: changes when the address does, reveals nothing."""
    key = settings.SECRET_KEY.encode()
    return hashlib.blake2b(email.strip().lower().encode(), key=key[:64], digest_size=16).hexdigest()


def sign_in(request: HttpRequest, subscriber: Subscriber) -> None:
    """Open a session for this subscriber (a fresh session key, against fixation)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"id": subscriber.pk, "fp": email_fingerprint(subscriber.email)}
    request.session.set_expiry(settings.SUBSCRIBER_SESSION_AGE)


def sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def current_subscriber(request: HttpRequest) -> Subscriber | None:
    """The signed-in subscriber, or None if nobody is, or the session no longer holds."""
    if hasattr(request, "_subscriber_cache"):
        cached: Subscriber | None = request._subscriber_cache
        return cached
    subscriber = None
    held = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if isinstance(held, dict) and isinstance(held.get("id"), int):
        found = Subscriber.objects.filter(pk=held["id"], status__in=SIGNED_IN_STATUSES).first()
        if found is not None and held.get("fp") == email_fingerprint(found.email):
            subscriber = found
        else:
            request.session.pop(SESSION_KEY, None)
    request._subscriber_cache = subscriber  # type: ignore[attr-defined]
    return subscriber


class SubscriberRequest(HttpRequest):
    """A request to a `subscriber_required` view: it carries the signed-in subscriber."""

    subscriber: Subscriber


def subscriber_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send visitors who are not signed in to the "email me a link" page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        subscriber = current_subscriber(request)
        if subscriber is None:
            return redirect("subscribers:signin")
        request.subscriber = subscriber  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


class SubscriberLanguageMiddleware:
    """Pages speak the signed-in subscriber's language, else the browser's (LocaleMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        subscriber = current_subscriber(request) if request.session.get(SESSION_KEY) else None
        if subscriber is None:
            return self.get_response(request)
        language = language_for_translation(subscriber.language)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


def signed_in_context(request: HttpRequest) -> dict[str, Subscriber | None]:
    """Template context: `signed_in_subscriber` (None for visitors, without a query)."""
    if not hasattr(request, "session") or not request.session.get(SESSION_KEY):
        return {"signed_in_subscriber": None}
    return {"signed_in_subscriber": current_subscriber(request)}
