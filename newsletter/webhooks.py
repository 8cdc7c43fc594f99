"""The ESP's tracking webhook, closed by default.

Anymail ships a route per ESP (14 tracking routes, and inbound ones); we answer on one: the
tracking route of the ESP `EMAIL_BACKEND` names, and only when `ANYMAIL_WEBHOOK_SECRET` is set
(Anymail alone would accept unauthenticated posts then). Every other `/anymail/…` path is a
404, as if it were not mounted. A body that cannot be read as the ESP's events answers 400
(the ESP stops retrying junk) before any event is dispatched, so nothing is stored; an error
while applying a valid event still answers 500, so the ESP retries.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.signals import AnymailTrackingEvent
from anymail.utils import get_anymail_setting
from anymail.webhooks.base import AnymailCoreWebhookView
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

__all__ = ["configured_esp", "tracking_webhook", "webhook_secrets"]

_ANYMAIL_BACKEND = re.compile(r"^anymail\.backends\.(\w+)\.EmailBackend$")
# What a malformed body raises inside Anymail's parsers: bad JSON or UTF-8 (ValueError), a
# missing field (KeyError), a list where an object belongs (TypeError, AttributeError)...
_MALFORMED = (ValueError, KeyError, TypeError, AttributeError, IndexError)
_TEXT_FIELDS = {"message_id": 255, "recipient": 254, "event_id": 1000}


def _tracking_views() -> dict[str, type[AnymailCoreWebhookView]]:
    """ESP slug (as in the backend's module and Anymail's URL) → Anymail's tracking view."""
    views = {}
    for pattern in anymail_urls.urlpatterns:
        name = getattr(pattern, "name", None) or ""
        if name.endswith("_tracking_webhook"):
            views[name.removesuffix("_tracking_webhook")] = pattern.callback.view_class
    return views


TRACKING_VIEWS = _tracking_views()


def configured_esp() -> str | None:
    """The slug of the ESP EMAIL_BACKEND sends through, if it is an Anymail ESP with webhooks."""
    match = _ANYMAIL_BACKEND.match(settings.EMAIL_BACKEND)
    if match and match.group(1) in TRACKING_VIEWS:
        return match.group(1)
    return None


def webhook_secrets() -> list[str]:
    """ANYMAIL_WEBHOOK_SECRET as Anymail reads it: one `user:password`, or a list of them."""
    secret = get_anymail_setting("webhook_secret", default=None)
    if isinstance(secret, str):
        return [secret] if secret else []
    return [s for s in secret or [] if isinstance(s, str) and s]


def _event_well_formed(event: object) -> bool:
    if not isinstance(event, AnymailTrackingEvent):
        return False
    for name, limit in _TEXT_FIELDS.items():
        value = getattr(event, name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            return False
    return event.timestamp is None or isinstance(event.timestamp, dt.datetime)


def _guarded(view_class: type[AnymailCoreWebhookView]) -> type[AnymailCoreWebhookView]:
    """Anymail's view, with a malformed body turned into its validation failure (400)."""

    class Guarded(view_class):
        def run_validators(self, request: HttpRequest) -> None:
            try:
                super().run_validators(request)
            except _MALFORMED as error:
                raise AnymailWebhookValidationFailure(
                    f"malformed {self.esp_name} webhook body ({type(error).__name__})"
                ) from None

        def parse_events(self, request: HttpRequest) -> list:
            try:
                events = list(super().parse_events(request))
            except _MALFORMED as error:
                raise AnymailWebhookValidationFailure(
                    f"malformed {self.esp_name} webhook body ({type(error).__name__})"
                ) from None
            if not all(_event_well_formed(event) for event in events):
                raise AnymailWebhookValidationFailure(
                    f"malformed {self.esp_name} event (a field of the wrong type or length)"
                )
            return events

    Guarded.__name__ = f"Guarded{view_class.__name__}"
    return Guarded


@functools.cache
def _view(esp: str) -> Callable[..., HttpResponse]:
    return _guarded(TRACKING_VIEWS[esp]).as_view()


@csrf_exempt
def tracking_webhook(request: HttpRequest, esp: str) -> HttpResponse:
    """The configured ESP's tracking events, with a secret; 404 for anything else."""
    if esp != configured_esp() or not webhook_secrets():
        raise Http404
    return _view(esp)(request)
