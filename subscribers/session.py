"""Who is signed in: a subscriber's session, opened by a magic link, never by a password.

The session stores the subscriber's id, a fingerprint of their address and its scope, so
changing the address ends every session at once; a session lasts SESSION_MAX_AGE at most.
An active or pending reader's session is `full` (profile, preview, feed, data) and ends when
they unsubscribe or are suppressed. A reader who left (unsubscribed, suppressed) may still sign
in to download or delete their data: that session's scope is `data`, and nothing else opens.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation

from newsletter.i18n import language_for_translation
from subscribers.addresses import email_fingerprint
from subscribers.models import Subscriber

__all__ = [
    "SESSION_KEY",
    "SIGNED_IN_STATUSES",
    "SubscriberLanguageMiddleware",
    "current_subscriber",
    "data_access_required",
    "email_fingerprint",
    "session_is_full",
    "sign_in",
    "sign_out",
    "signed_in_context",
    "subscriber_required",
]

SESSION_KEY = "subscriber"
SIGNED_IN_STATUSES = (Subscriber.Status.ACTIVE, Subscriber.Status.PENDING)
FULL, DATA = "full", "data"


def sign_in(request: HttpRequest, subscriber: Subscriber) -> None:
    """Open a session for this subscriber (a fresh session key, against fixation); its scope
    is `data` for a reader who left."""
    scope = FULL if subscriber.status in SIGNED_IN_STATUSES else DATA
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "id": subscriber.pk,
        "fp": email_fingerprint(subscriber.email),
        "scope": scope,
    }
    request.session.set_expiry(settings.SUBSCRIBER_SESSION_AGE)


def sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def _session_holds(held: dict[str, object], found: Subscriber | None) -> bool:
    if found is None or held.get("fp") != email_fingerprint(found.email):
        return False
    # A session opened before scopes existed is a full one.
    return held.get("scope", FULL) == DATA or found.status in SIGNED_IN_STATUSES


def current_subscriber(request: HttpRequest) -> Subscriber | None:
    """The signed-in subscriber, or None if nobody is, or the session no longer holds."""
    if hasattr(request, "_subscriber_cache"):
        cached: Subscriber | None = request._subscriber_cache
        return cached
    subscriber = None
    held = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if isinstance(held, dict) and isinstance(held.get("id"), int):
        found = Subscriber.objects.filter(pk=held["id"]).first()
        if _session_holds(held, found):
            subscriber = found
        else:
            request.session.pop(SESSION_KEY, None)
    request._subscriber_cache = subscriber  # type: ignore[attr-defined]
    return subscriber


def session_is_full(request: HttpRequest) -> bool:
    """True when the signed-in reader may edit their subscription, not only see their data."""
    subscriber = current_subscriber(request)
    held = request.session.get(SESSION_KEY) or {}
    return (
        subscriber is not None
        and held.get("scope", FULL) == FULL
        and subscriber.status in SIGNED_IN_STATUSES
    )


class SubscriberRequest(HttpRequest):
    """A request to a `subscriber_required` view: it carries the signed-in subscriber."""

    subscriber: Subscriber


def subscriber_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A full session only: visitors go to the "email me a link" page, and a reader who left
    (signed in for their data) to their data page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        subscriber = current_subscriber(request)
        if subscriber is None:
            return redirect("subscribers:signin")
        if not session_is_full(request):
            return redirect("subscribers:mydata")
        request.subscriber = subscriber  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def data_access_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Any session, full or data-only: the reader's own data (see, download, delete)."""

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
