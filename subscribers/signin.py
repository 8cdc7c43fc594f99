"""The magic link: mailed on request, signs a subscriber in once, within SIGNIN_LINK_AGE.

A link dies without being stored: it is bound to the address it was sent to (a fingerprint
checked against the current address), to an active or pending subscription, and to its own
issue time, which must be later than the subscriber's last magic-link sign-in. Using a link
therefore spends it and every link sent before it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.signing import b62_decode
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from newsletter.i18n import language_for_translation
from subscribers.mail import reader_mail_send
from subscribers.models import Subscriber
from subscribers.session import SIGNED_IN_STATUSES, email_fingerprint
from subscribers.tokens import SIGNIN_LINK_AGE, BadToken, signin_token, signin_token_read

__all__ = [
    "SpentToken",
    "signin_link_check",
    "signin_link_send",
    "signin_link_use",
    "signin_subscriber_find",
]


class SpentToken(BadToken):
    """A genuine link that no longer signs in: used, or the address or subscription changed."""


def signin_subscriber_find(*, email: str) -> Subscriber | None:
    """The active or pending subscriber at this address (any case), or None."""
    return Subscriber.objects.filter(
        email__iexact=email.strip(), status__in=SIGNED_IN_STATUSES
    ).first()


def signin_link_send(*, email: str) -> bool:
    """Mail a sign-in link if a subscriber may sign in at this address; False if nobody can.

    The caller answers the same either way: whether an address is known is never revealed.
    """
    subscriber = signin_subscriber_find(email=email)
    if subscriber is None:
        return False
    token = signin_token(subscriber_id=subscriber.pk, email=subscriber.email)
    context = {
        "url": settings.SITE_URL + reverse("subscribers:signin_land", args=[token]),
        "minutes": SIGNIN_LINK_AGE // 60,
    }
    with translation.override(language_for_translation(subscriber.language)):
        subject = _("Your sign-in link for arXiv Digest")
    reader_mail_send(
        to=subscriber.email,
        language=subscriber.language,
        subject=subject,
        template="signin",
        context=context,
        html=True,
    )
    return True


def _issued_at(token: str) -> dt.datetime:
    """When a token that `signin_token_read` accepted was signed (whole seconds, UTC)."""
    _value, stamp, _signature = token.rsplit(":", 2)
    return dt.datetime.fromtimestamp(b62_decode(stamp), tz=dt.UTC)


def signin_link_check(*, token: str) -> Subscriber:
    """The subscriber this link would sign in; raises BadToken, ExpiredToken or SpentToken."""
    subscriber_id, fingerprint = signin_token_read(token)
    subscriber = Subscriber.objects.filter(pk=subscriber_id, status__in=SIGNED_IN_STATUSES).first()
    if subscriber is None or email_fingerprint(subscriber.email) != fingerprint:
        raise SpentToken(token[:12])
    used = subscriber.signin_used_at
    if used is not None and used >= _issued_at(token):
        raise SpentToken(token[:12])
    return subscriber


def signin_link_use(*, token: str) -> Subscriber:
    """Spend the link and return its subscriber, to be signed in; raises like the check.

    The claim is a conditional update, so two clicks racing sign in at most once.
    """
    subscriber = signin_link_check(token=token)
    claimed = (
        Subscriber.objects.filter(
            pk=subscriber.pk, email=subscriber.email, status__in=SIGNED_IN_STATUSES
        )
        .filter(Q(signin_used_at__isnull=True) | Q(signin_used_at__lt=_issued_at(token)))
        .update(signin_used_at=timezone.now())
    )
    if not claimed:
        raise SpentToken(token[:12])
    subscriber.refresh_from_db()
    return subscriber
