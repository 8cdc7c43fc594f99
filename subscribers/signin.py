"""The magic link: mailed on request, signs a subscriber in once, within SIGNIN_LINK_AGE.

A link dies without being stored: it is bound to the address it was sent to (a fingerprint
checked against the current address) and to its own issue time, which must be later than the
subscriber's last magic-link sign-in and last unsubscribe. Using a link therefore spends it and
every link sent before it. A reader who left (unsubscribed or suppressed) still gets a link, and
it signs them in for their data only (see `subscribers.session`).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from newsletter.i18n import language_for_translation
from subscribers.addresses import email_fingerprint, email_normalise
from subscribers.mail import reader_mail_send
from subscribers.models import Subscriber
from subscribers.session import SIGNED_IN_STATUSES
from subscribers.tokens import SIGNIN_LINK_AGE, BadToken, TimedLink, signin_token, signin_token_read

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
    """The subscriber at this address (any spelling of it), whatever their status, or None."""
    return Subscriber.objects.filter(email__iexact=email_normalise(email)).first()


def signin_link_send(*, email: str) -> bool:
    """Mail a sign-in link if a subscriber has this address; False if nobody has.

    Run by a task for every address asked for: the page answers the same, as fast, whether
    the address is unknown, suppressed or active.
    """
    subscriber = signin_subscriber_find(email=email)
    if subscriber is None:
        return False
    token = signin_token(subscriber_id=subscriber.pk, email=subscriber.email)
    context = {
        "url": settings.SITE_URL + reverse("subscribers:signin_land", args=[token]),
        "minutes": SIGNIN_LINK_AGE // 60,
        "data_only": subscriber.status not in SIGNED_IN_STATUSES,
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


def _not_spent(subscriber: Subscriber, link: TimedLink) -> bool:
    used, left = subscriber.signin_used_at, subscriber.unsubscribed_at
    return (
        email_fingerprint(subscriber.email) == link.fingerprint
        and (used is None or used < link.issued_at)
        and (left is None or left < link.issued_at)
    )


def signin_link_check(*, token: str) -> Subscriber:
    """The subscriber this link would sign in; raises BadToken, ExpiredToken or SpentToken."""
    link = signin_token_read(token)
    subscriber = Subscriber.objects.filter(pk=link.subscriber_id).first()
    if subscriber is None or not _not_spent(subscriber, link):
        raise SpentToken(token[:12])
    return subscriber


def signin_link_use(*, token: str) -> Subscriber:
    """Spend the link and return its subscriber, to be signed in; raises like the check.

    The claim is a conditional update, so two clicks racing sign in at most once.
    """
    subscriber = signin_link_check(token=token)
    issued = signin_token_read(token).issued_at
    claimed = (
        Subscriber.objects.filter(pk=subscriber.pk, email=subscriber.email)
        .filter(Q(signin_used_at__isnull=True) | Q(signin_used_at__lt=issued))
        .filter(Q(unsubscribed_at__isnull=True) | Q(unsubscribed_at__lt=issued))
        .update(signin_used_at=timezone.now())
    )
    if not claimed:
        raise SpentToken(token[:12])
    subscriber.refresh_from_db()
    return subscriber
