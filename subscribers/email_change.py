"""A change of address: confirmed by a link mailed to the new address, then made.

The page only checks the request; a task mails the link (retried on a transient ESP error),
so an ESP outage never fails the page.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from newsletter.i18n import language_for_translation
from subscribers.addresses import email_fingerprint, email_normalise
from subscribers.mail import reader_mail_send, site_link
from subscribers.models import Subscriber
from subscribers.session import SIGNED_IN_STATUSES
from subscribers.tokens import BadToken, email_change_token, email_change_token_read

__all__ = [
    "EmailTaken",
    "email_change_check",
    "email_change_mail_send",
    "subscriber_email_change_confirm",
    "subscriber_email_change_request",
]

logger = logging.getLogger(__name__)


class EmailTaken(Exception):
    """The new address already belongs to another subscriber."""


def subscriber_email_change_request(*, subscriber: Subscriber, new_email: str) -> str | None:
    """The new address, normalised, to mail a link to; None if it is the current one."""
    new_email = email_normalise(new_email)
    if new_email.lower() == subscriber.email.lower():
        return None
    logger.info("address change requested by subscriber %s", subscriber.pk)
    return new_email


def email_change_mail_send(*, subscriber_id: int, new_email: str) -> bool:
    """Mail the confirmation link to the new address; False if the subscriber may no longer
    change it (deleted, or left since)."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id, status__in=SIGNED_IN_STATUSES).first()
    if subscriber is None:
        return False
    token = email_change_token(
        subscriber_id=subscriber.pk, old_email=subscriber.email, new_email=new_email
    )
    with translation.override(language_for_translation(subscriber.language)):
        subject = _("Confirm your new address for arXiv Digest")
    reader_mail_send(
        to=new_email,
        language=subscriber.language,
        subject=subject,
        template="email_change",
        context={"link": site_link("subscribers:email_change_confirm", token), "email": new_email},
        html=False,
    )
    return True


def email_change_check(token: str) -> tuple[Subscriber, str]:
    """(subscriber, new address) of a change link still valid; BadToken if none.

    The link names the old address's fingerprint, so it dies once the change is made.
    """
    subscriber_id, fingerprint, new_email = email_change_token_read(token)
    subscriber = Subscriber.objects.filter(pk=subscriber_id, status__in=SIGNED_IN_STATUSES).first()
    if subscriber is None or email_fingerprint(subscriber.email) != fingerprint:
        raise BadToken(token[:12])
    return subscriber, new_email


def subscriber_email_change_confirm(*, token: str) -> Subscriber:
    """Move the subscription to the new address; EmailTaken if someone else holds it."""
    subscriber, new_email = email_change_check(token)
    new_email = email_normalise(new_email)
    if Subscriber.objects.filter(email__iexact=new_email).exclude(pk=subscriber.pk).exists():
        raise EmailTaken(subscriber.pk)
    try:
        with transaction.atomic():
            subscriber.email = new_email
            subscriber.save(update_fields=["email"])
    except IntegrityError:
        raise EmailTaken(subscriber.pk) from None
    logger.info("address changed for subscriber %s", subscriber.pk)
    return subscriber
