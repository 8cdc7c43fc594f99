"""Deployment checks (`manage.py check --deploy`): the ESP's webhooks must not be left open."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured

from newsletter.webhooks import TRACKING_VIEWS, configured_esp, webhook_secrets

__all__ = ["esp_webhook_secret_check"]


def esp_webhook_secret_check(
    app_configs: Sequence[AppConfig] | None = None, **_: Any
) -> list[CheckMessage]:
    """An ESP backend needs ANYMAIL_WEBHOOK_SECRET (`user:password`) for its tracking webhook."""
    esp = configured_esp()
    if esp is None:
        return []
    secrets = webhook_secrets()
    if not secrets:
        return [
            Error(
                f"EMAIL_BACKEND sends through {esp} but ANYMAIL_WEBHOOK_SECRET is not set: the "
                "ESP's tracking webhook (bounces, complaints, unsubscribes) is switched off, "
                "and without the secret anyone could post events to it.",
                hint=(
                    "Set ANYMAIL_WEBHOOK_SECRET=<user>:<long random password> and give the ESP "
                    f"https://<user>:<password>@<your host>/anymail/{esp}/tracking/ as its "
                    "webhook URL."
                ),
                obj=settings.EMAIL_BACKEND,
                id="newsletter.E001",
            )
        ]
    if not all(":" in secret for secret in secrets):
        return [
            Error(
                "ANYMAIL_WEBHOOK_SECRET must be <user>:<password>, as the ESP sends it in "
                "basic auth: without the colon no webhook can match it.",
                id="newsletter.E002",
            )
        ]
    try:
        TRACKING_VIEWS[esp]()  # what the first webhook would build; the ESP's own settings
    except ImproperlyConfigured as error:  # (Mailgun's signing key, boto3 for SES...)
        return [
            Error(
                f"the {esp} tracking webhook cannot start: {error}",
                id="newsletter.E003",
            )
        ]
    return []
