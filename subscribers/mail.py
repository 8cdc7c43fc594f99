"""Transactional mail to one reader (confirmation, sign-in, address change), in their language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from newsletter.i18n import language_for_translation

__all__ = ["reader_mail_send"]


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
