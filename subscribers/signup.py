"""Sign-up with double opt-in, change of address, and profile edits: plain functions.

Whatever the address, a sign-up answers the same; what it sends differs: a new, pending or
unsubscribed address gets a confirmation link, an active one a "manage your subscription" link,
a suppressed one nothing. Mail goes out after the database work is committed, never inside it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from newsletter.i18n import language_for_translation
from subscribers.mail import reader_mail_send
from subscribers.models import InterestProfile, Subscriber
from subscribers.session import email_fingerprint
from subscribers.tokens import (
    BadToken,
    confirm_token,
    confirm_token_read,
    email_change_token,
    email_change_token_read,
    signin_token,
)

__all__ = [
    "EmailTaken",
    "SignupOutcome",
    "confirm_check",
    "email_change_check",
    "profile_update",
    "subscriber_confirm",
    "subscriber_email_change_confirm",
    "subscriber_email_change_request",
    "subscriber_signup",
]

logger = logging.getLogger(__name__)

Status = Subscriber.Status
CONFIRMABLE = (Status.PENDING, Status.UNSUBSCRIBED)


class SignupOutcome(enum.StrEnum):
    CONFIRM_SENT = "confirm-sent"
    MANAGE_SENT = "manage-sent"
    NOTHING_SENT = "nothing-sent"


class EmailTaken(Exception):
    """The new address already belongs to another subscriber."""


def _site_link(name: str, token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=[token])


def _confirm_mail_send(subscriber: Subscriber) -> None:
    token = confirm_token(subscriber_id=subscriber.pk, email=subscriber.email)
    with translation.override(language_for_translation(subscriber.language)):
        subject = _("Confirm your arXiv Digest subscription")
    reader_mail_send(
        to=subscriber.email,
        language=subscriber.language,
        subject=subject,
        template="confirm",
        context={
            "link": _site_link("subscribers:confirm", token),
            "returning": subscriber.status == Status.UNSUBSCRIBED,
        },
        html=True,
    )


def _manage_mail_send(subscriber: Subscriber) -> None:
    token = signin_token(subscriber_id=subscriber.pk, email=subscriber.email)
    with translation.override(language_for_translation(subscriber.language)):
        subject = _("Your arXiv Digest subscription")
    reader_mail_send(
        to=subscriber.email,
        language=subscriber.language,
        subject=subject,
        template="confirm_manage",
        context={"link": _site_link("subscribers:signin_land", token)},
        html=True,
    )


def _profile_apply(
    subscriber: Subscriber,
    *,
    subscriber_fields: dict[str, Any],
    profile_fields: dict[str, Any],
    topics: Iterable[Model],
) -> None:
    for name, value in subscriber_fields.items():
        setattr(subscriber, name, value)
    if subscriber_fields:
        subscriber.save(update_fields=list(subscriber_fields))
    profile, _created = InterestProfile.objects.update_or_create(
        subscriber=subscriber, defaults=profile_fields
    )
    profile.topics.set(list(topics))  # type: ignore[arg-type]  # Topic, through papers_side


def subscriber_signup(
    *,
    email: str,
    subscriber_fields: dict[str, Any],
    profile_fields: dict[str, Any],
    topics: Iterable[Model],
) -> SignupOutcome:
    """Record a sign-up and send what the address's state calls for (see the module doc)."""
    email = email.strip()
    topics = list(topics)
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(email__iexact=email).first()
        if subscriber is None:
            try:
                with transaction.atomic():
                    subscriber = Subscriber.objects.create(
                        email=email, status=Status.PENDING, **subscriber_fields
                    )
                    _profile_apply(
                        subscriber,
                        subscriber_fields={},
                        profile_fields=profile_fields,
                        topics=topics,
                    )
            except IntegrityError:  # the same address signed up at the same moment: it won
                subscriber = Subscriber.objects.get(email__iexact=email)
            outcome = SignupOutcome.CONFIRM_SENT
        elif subscriber.status in CONFIRMABLE:
            # Nothing is sent to them until they confirm, so their latest choices stand.
            _profile_apply(
                subscriber,
                subscriber_fields=subscriber_fields,
                profile_fields=profile_fields,
                topics=topics,
            )
            outcome = SignupOutcome.CONFIRM_SENT
        elif subscriber.status == Status.ACTIVE:
            outcome = SignupOutcome.MANAGE_SENT  # their profile is theirs to change, signed in
        else:
            outcome = SignupOutcome.NOTHING_SENT  # suppressed: the address bounced or complained
    if outcome == SignupOutcome.CONFIRM_SENT:
        _confirm_mail_send(subscriber)
    elif outcome == SignupOutcome.MANAGE_SENT:
        _manage_mail_send(subscriber)
    logger.info("sign-up of subscriber %s: %s", subscriber.pk, outcome)
    return outcome


def confirm_check(token: str) -> Subscriber:
    """The subscriber a confirmation link is for; BadToken (or ExpiredToken) if none."""
    subscriber_id, fingerprint = confirm_token_read(token)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if (
        subscriber is None
        or email_fingerprint(subscriber.email) != fingerprint
        or subscriber.status == Status.SUPPRESSED
    ):
        raise BadToken(token[:12])
    return subscriber


def subscriber_confirm(*, token: str) -> tuple[Subscriber, bool]:
    """Confirm the address: the subscriber becomes active (again, if they had left).

    Returns the subscriber and whether this link confirmed them. A link already used confirms
    nothing more, and must not sign anyone in: it lives for days, a sign-in link for an hour.
    """
    subscriber = confirm_check(token)
    changed = Subscriber.objects.filter(pk=subscriber.pk, status__in=CONFIRMABLE).update(
        status=Status.ACTIVE, confirmed_at=timezone.now(), unsubscribed_at=None
    )
    subscriber.refresh_from_db()
    return subscriber, bool(changed)


def profile_update(
    *,
    subscriber: Subscriber,
    subscriber_fields: dict[str, Any],
    profile_fields: dict[str, Any],
    topics: Iterable[Model],
) -> None:
    """Save the editor's fields (the address changes only through its own confirmation)."""
    subscriber_fields = {k: v for k, v in subscriber_fields.items() if k != "email"}
    with transaction.atomic():
        _profile_apply(
            subscriber,
            subscriber_fields=subscriber_fields,
            profile_fields=profile_fields,
            topics=topics,
        )


def subscriber_email_change_request(*, subscriber: Subscriber, new_email: str) -> bool:
    """Mail a confirmation link to the new address; False if it is the current one."""
    new_email = new_email.strip()
    if new_email.lower() == subscriber.email.lower():
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
        context={"link": _site_link("subscribers:email_change_confirm", token), "email": new_email},
        html=False,
    )
    logger.info("address change requested by subscriber %s", subscriber.pk)
    return True


def email_change_check(token: str) -> tuple[Subscriber, str]:
    """(subscriber, new address) of a change link still valid; BadToken if none.

    The link names the old address's fingerprint, so it dies once the change is made.
    """
    subscriber_id, fingerprint, new_email = email_change_token_read(token)
    subscriber = Subscriber.objects.filter(
        pk=subscriber_id, status__in=[Status.ACTIVE, Status.PENDING]
    ).first()
    if subscriber is None or email_fingerprint(subscriber.email) != fingerprint:
        raise BadToken(token[:12])
    return subscriber, new_email


def subscriber_email_change_confirm(*, token: str) -> Subscriber:
    """Move the subscription to the new address; EmailTaken if someone else holds it."""
    subscriber, new_email = email_change_check(token)
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
