"""Sign-up with double opt-in, and profile edits: plain functions.

Whatever the address, the sign-up page does the same work: it queues the form's data
(`signup_payload`) for a task, which records it and then sends what the address's state calls
for: a new, pending or unsubscribed address gets a
confirmation link, an active one a "manage your subscription" link, a suppressed one nothing.
A sign-up for an address that already has a subscriber never overwrites their profile: it is
held (`HeldSignup`) and applied only when its own confirmation link is used. A confirmation
link issued before the subscriber's last unsubscribe is dead.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from newsletter.i18n import language_for_translation
from subscribers.addresses import email_fingerprint, email_normalise
from subscribers.mail import reader_mail_send, site_link
from subscribers.models import HeldSignup, InterestProfile, Subscriber
from subscribers.papers_side import papers_side
from subscribers.tokens import (
    BadToken,
    TimedLink,
    confirm_token,
    confirm_token_read,
    signin_token,
)

__all__ = [
    "SignupOutcome",
    "SignupRecord",
    "confirm_check",
    "profile_update",
    "signup_mail_send",
    "signup_payload",
    "signup_payload_record",
    "subscriber_confirm",
    "subscriber_signup",
]

logger = logging.getLogger(__name__)

Status = Subscriber.Status
CONFIRMABLE = (Status.PENDING, Status.UNSUBSCRIBED)


class SignupOutcome(enum.StrEnum):
    CONFIRM_SENT = "confirm-sent"
    MANAGE_SENT = "manage-sent"
    NOTHING_SENT = "nothing-sent"


@dataclass(frozen=True)
class SignupRecord:
    """What a sign-up wrote: the subscriber, and the held sign-up if their profile was kept."""

    subscriber_id: int
    held_id: int | None


def _confirm_mail_send(subscriber: Subscriber, held: HeldSignup | None) -> None:
    token = confirm_token(
        subscriber_id=subscriber.pk, email=subscriber.email, held_id=held.pk if held else None
    )
    # The mail speaks the language of the form that asked for it.
    language = (held.subscriber_fields.get("language") if held else None) or subscriber.language
    with translation.override(language_for_translation(language)):
        subject = _("Confirm your arXiv Digest subscription")
    reader_mail_send(
        to=subscriber.email,
        language=language,
        subject=subject,
        template="confirm",
        context={
            "link": site_link("subscribers:confirm", token),
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
        context={"link": site_link("subscribers:signin_land", token)},
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


def _subscriber_fields_parse(stored: dict[str, Any]) -> dict[str, Any]:
    """Subscriber fields back from JSON (a delivery time is a string there)."""
    return {
        name: Subscriber._meta.get_field(name).to_python(value)  # type: ignore[union-attr]
        for name, value in stored.items()
    }


def _topics(ids: Iterable[int]) -> list[Model]:
    return list(papers_side().topic_model._default_manager.filter(pk__in=list(ids)))


def _held_apply(subscriber: Subscriber, held: HeldSignup) -> None:
    """Make a held sign-up the subscriber's profile (its values were checked by the form)."""
    _profile_apply(
        subscriber,
        subscriber_fields=_subscriber_fields_parse(held.subscriber_fields),
        profile_fields=held.profile_fields,
        topics=_topics(held.topic_ids),
    )


def signup_payload(
    *, subscriber_fields: dict[str, Any], profile_fields: dict[str, Any], topics: Iterable[Model]
) -> dict[str, Any]:
    """A checked sign-up form as JSON-ready data, for the task that records it."""
    data = {"subscriber_fields": subscriber_fields, "profile_fields": profile_fields}
    payload: dict[str, Any] = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    payload["topic_ids"] = [topic.pk for topic in topics]
    return payload


def signup_payload_record(*, email: str, payload: dict[str, Any]) -> SignupRecord:
    """`subscriber_signup` for a payload made by `signup_payload`."""
    return subscriber_signup(
        email=email,
        subscriber_fields=_subscriber_fields_parse(payload["subscriber_fields"]),
        profile_fields=payload["profile_fields"],
        topics=_topics(payload["topic_ids"]),
    )


def subscriber_signup(
    *,
    email: str,
    subscriber_fields: dict[str, Any],
    profile_fields: dict[str, Any],
    topics: Iterable[Model],
) -> SignupRecord:
    """Record a sign-up: a new address becomes a pending subscriber with this profile; for an
    address already known the profile is held until its confirmation (see the module doc).

    Sends nothing: the caller runs `signup_mail_send` once this is committed.
    """
    email = email_normalise(email)
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
                return SignupRecord(subscriber.pk, None)
            except IntegrityError:  # the same address signed up at the same moment: it won
                subscriber = Subscriber.objects.select_for_update().get(email__iexact=email)
        held = None
        if subscriber.status in CONFIRMABLE:
            held = HeldSignup.objects.create(
                subscriber=subscriber,
                subscriber_fields=subscriber_fields,
                profile_fields=profile_fields,
                topic_ids=[topic.pk for topic in topics],
            )
    logger.info("sign-up for subscriber %s (%s)", subscriber.pk, subscriber.status)
    return SignupRecord(subscriber.pk, held.pk if held else None)


def _held(subscriber: Subscriber, held_id: int | None) -> HeldSignup | None:
    if held_id is None:
        return None
    return HeldSignup.objects.filter(pk=held_id, subscriber=subscriber).first()


def signup_mail_send(*, subscriber_id: int, held_id: int | None) -> SignupOutcome:
    """Send what the address's state calls for now (see the module doc)."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:  # deleted or purged since
        return SignupOutcome.NOTHING_SENT
    if subscriber.status in CONFIRMABLE:
        _confirm_mail_send(subscriber, _held(subscriber, held_id))
        outcome = SignupOutcome.CONFIRM_SENT
    elif subscriber.status == Status.ACTIVE:
        _manage_mail_send(subscriber)  # their profile is theirs to change, signed in
        outcome = SignupOutcome.MANAGE_SENT
    else:
        outcome = SignupOutcome.NOTHING_SENT  # suppressed: the address bounced or complained
    logger.info("sign-up mail for subscriber %s: %s", subscriber.pk, outcome)
    return outcome


def _link_alive(subscriber: Subscriber, link: TimedLink) -> bool:
    """Mailed to the current address, and issued after the last unsubscribe."""
    left = subscriber.unsubscribed_at
    return email_fingerprint(subscriber.email) == link.fingerprint and (
        left is None or link.issued_at > left
    )


def confirm_check(token: str) -> Subscriber:
    """The subscriber a confirmation link is for; BadToken (or ExpiredToken) if none."""
    link = confirm_token_read(token)
    subscriber = Subscriber.objects.filter(pk=link.subscriber_id).first()
    if (
        subscriber is None
        or subscriber.status == Status.SUPPRESSED
        or not _link_alive(subscriber, link)
    ):
        raise BadToken(token[:12])
    return subscriber


def subscriber_confirm(*, token: str) -> tuple[Subscriber, bool]:
    """Confirm the address: the subscriber becomes active (again, if they had left), with the
    profile held by this link's sign-up, if any.

    Returns the subscriber and whether this link confirmed them. A link already used confirms
    nothing more, and must not sign anyone in: it lives for days, a sign-in link for an hour.
    """
    subscriber = confirm_check(token)
    link = confirm_token_read(token)
    with transaction.atomic():
        changed = (
            Subscriber.objects.filter(
                pk=subscriber.pk, email=subscriber.email, status__in=CONFIRMABLE
            )
            .filter(Q(unsubscribed_at__isnull=True) | Q(unsubscribed_at__lt=link.issued_at))
            .update(status=Status.ACTIVE, confirmed_at=timezone.now(), unsubscribed_at=None)
        )
        subscriber.refresh_from_db()
        if changed:
            held = _held(subscriber, link.held_id)
            if held is not None:
                _held_apply(subscriber, held)
            HeldSignup.objects.filter(subscriber=subscriber).delete()
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
    if subscriber.status not in (Status.ACTIVE, Status.PENDING):
        raise ValueError(f"subscriber {subscriber.pk} left: their profile is not edited")
    with transaction.atomic():
        _profile_apply(
            subscriber,
            subscriber_fields=subscriber_fields,
            profile_fields=profile_fields,
            topics=topics,
        )
