"""Optional error reporting to Sentry (or any Sentry-compatible server) when SENTRY_DSN is set.

No personal data is sent (no addresses, no cookies, no request bodies), and link tokens are
scrubbed from every URL and message before an event leaves the process.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from newsletter.logs import scrub

__all__ = ["event_scrub", "sentry_init"]


def _scrub_deep(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrub_deep(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_deep(item) for item in value]
    return value


def event_scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Remove tokens from the event's URLs, messages, breadcrumbs and stack frames' values."""
    event = _scrub_deep(event)
    request = event.get("request")
    if isinstance(request, dict):
        for field in ("cookies", "data", "headers"):
            request.pop(field, None)
    event.pop("user", None)
    return event


def sentry_init(*, dsn: str, environment: str) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        include_local_variables=False,  # locals may hold addresses and tokens
        before_send=event_scrub,  # type: ignore[arg-type]  # sentry's Event is a TypedDict
        before_breadcrumb=lambda crumb, hint: _scrub_deep(crumb),
        traces_sample_rate=0.0,
    )
