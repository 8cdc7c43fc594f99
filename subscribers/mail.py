"""Transactional mail to one reader (confirmation, sign-in, address change), in their language,
and which of its failures are worth trying again."""

from __future__ import annotations

import random
from typing import Any

import requests
from anymail.exceptions import AnymailAPIError, AnymailError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from newsletter.i18n import language_for_translation

__all__ = [
    "MAIL_ERRORS",
    "MAIL_RETRIES",
    "mail_error_transient",
    "mail_retry_delay",
    "reader_mail_send",
    "site_link",
]

# What sending can raise: Anymail's errors, the HTTP client's, a socket's (SMTP, files).
MAIL_ERRORS: tuple[type[Exception], ...] = (AnymailError, requests.RequestException, OSError)
MAIL_RETRIES = 8  # with the backoff below: about an hour and a half of tries
_RETRY_LONGEST = 15 * 60
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def site_link(name: str, token: str) -> str:
    """The absolute address of a page reached by a token, for an e-mail."""
    return settings.SITE_URL.rstrip("/") + reverse(name, args=[token])


def reader_mail_send(
    *, to: str, language: str, subject: str, template: str, context: dict[str, Any], html: bool
) -> None:
    """Render `email/<template>.txt` (and `.html`) in the reader's language and send it."""
    with translation.override(language_for_translation(language)):
        context = {**context, "site_url": settings.SITE_URL}
        message = EmailMultiAlternatives(
            subject=str(subject),
            body=render_to_string(f"email/{template}.txt", context),
            to=[to],
        )
        if html:
            message.attach_alternative(
                render_to_string(f"email/{template}.html", context), "text/html"
            )
    message.send()


def mail_error_transient(error: BaseException) -> bool:
    """The ESP said "not now" (429, 5xx) or could not be reached: the same mail may go later.

    A refused recipient or a request the ESP rejects (4xx) fails the same way every time.
    """
    if isinstance(error, AnymailAPIError):
        status = error.status_code
        return status is None or status in _TRANSIENT_STATUSES or status >= 500
    if isinstance(error, AnymailError):
        return False  # refused recipients, invalid addresses, unserialisable messages
    return isinstance(error, requests.RequestException | OSError)


def mail_retry_delay(retries: int) -> float:
    """Seconds before try `retries + 1`: SEND_RETRY_FIRST_SECONDS, doubling, at most 15 min,
    with jitter so that mails queued in one outage do not all come back at once."""
    base = min(_RETRY_LONGEST, settings.SEND_RETRY_FIRST_SECONDS * 2**retries)
    return float(base * (1 + random.random() / 4))
