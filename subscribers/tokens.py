"""Signed links for e-mails: unsubscribe (per reader) and feedback (per reader and paper).

Stateless and unguessable: Django's signing with a purpose-specific salt, so a token for one
purpose is worthless for another. They carry ids and keyed fingerprints, never e-mail addresses.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.core import signing

from subscribers.addresses import email_fingerprint

__all__ = [
    "BadToken",
    "ExpiredToken",
    "TimedLink",
    "confirm_token",
    "confirm_token_read",
    "digest_token",
    "digest_token_read",
    "email_change_token",
    "email_change_token_read",
    "feedback_token",
    "feedback_token_read",
    "signin_token",
    "signin_token_read",
    "unsubscribe_token",
    "unsubscribe_token_read",
]

_UNSUBSCRIBE = "subscribers.unsubscribe"
_FEEDBACK = "subscribers.feedback"


class BadToken(Exception):
    """The link was altered or is not one of ours."""


def unsubscribe_token(*, subscriber_id: int, email: str) -> str:
    """Bound to the address it is mailed to: after a change of address it acts on nothing."""
    return signing.dumps(
        [subscriber_id, email_fingerprint(email)], salt=_UNSUBSCRIBE, compress=True
    )


def unsubscribe_token_read(token: str) -> tuple[int, str | None]:
    """(subscriber id, address fingerprint); the fingerprint is None for a link made before
    links were bound to an address (a bare id): those still unsubscribe, as the law asks of
    every link already mailed, but show no address."""
    try:
        value = signing.loads(token, salt=_UNSUBSCRIBE)
        if isinstance(value, list):
            subscriber_id, fingerprint = value
            return int(subscriber_id), str(fingerprint)
        return int(value), None
    except (signing.BadSignature, TypeError, ValueError):
        raise BadToken(token[:12]) from None


def feedback_token(*, subscriber_id: int, paper_id: int, signal: str) -> str:
    return signing.dumps([subscriber_id, paper_id, signal], salt=_FEEDBACK, compress=True)


def feedback_token_read(token: str) -> tuple[int, int, str]:
    try:
        subscriber_id, paper_id, signal = signing.loads(token, salt=_FEEDBACK)
        return int(subscriber_id), int(paper_id), str(signal)
    except (signing.BadSignature, TypeError, ValueError):
        raise BadToken(token[:12]) from None


_DIGEST = "digests.view"


def digest_token(*, digest_id: int) -> str:
    return signing.dumps(digest_id, salt=_DIGEST, compress=True)


def digest_token_read(token: str) -> int:
    try:
        return int(signing.loads(token, salt=_DIGEST))
    except (signing.BadSignature, TypeError, ValueError):
        raise BadToken(token[:12]) from None


# Expiring links: timestamped, and bound to the address they were sent to (its keyed
# fingerprint), so a link mailed to an old address dies when the address changes.
_CONFIRM = "subscribers.confirm"
_SIGNIN = "subscribers.signin"
_EMAIL_CHANGE = "subscribers.email_change"

CONFIRM_LINK_AGE = 60 * 60 * 24 * 3  # double opt-in: three days to click
SIGNIN_LINK_AGE = 60 * 60  # a magic link signs in for one hour after it was sent
EMAIL_CHANGE_LINK_AGE = 60 * 60 * 24


class ExpiredToken(BadToken):
    """The link was ours but is too old."""


@dataclass(frozen=True)
class TimedLink:
    """What a confirmation or sign-in link says, once its signature and age are checked."""

    subscriber_id: int
    fingerprint: str  # of the address it was mailed to
    issued_at: dt.datetime  # to the microsecond: a link is dead if issued before some event
    held_id: int | None = None  # confirmation only: the sign-up held until the link is used


def _now_us() -> int:
    return int(time.time() * 1_000_000)


def _when_us(micros: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(micros / 1_000_000, tz=dt.UTC)


def _stamp(token: str) -> dt.datetime:
    """The signer's own timestamp (whole seconds), for links made before they carried theirs."""
    _value, stamp, _signature = token.rsplit(":", 2)
    return dt.datetime.fromtimestamp(signing.b62_decode(stamp), tz=dt.UTC)


def _timed_link(token: str, value: list[Any]) -> TimedLink:
    try:
        subscriber_id, fingerprint, *rest = value
        issued = _when_us(int(rest[0])) if rest else _stamp(token)
        held = rest[1] if len(rest) > 1 else None
        return TimedLink(
            int(subscriber_id), str(fingerprint), issued, None if held is None else int(held)
        )
    except (TypeError, ValueError, OverflowError, OSError):
        raise BadToken(token[:12]) from None


def _timed_dumps(value: object, salt: str) -> str:
    return signing.TimestampSigner(salt=salt).sign_object(value, compress=True)


def _timed_loads(token: str, salt: str, max_age: int) -> list[Any]:
    try:
        value = signing.TimestampSigner(salt=salt).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        raise ExpiredToken(token[:12]) from None
    except (signing.BadSignature, TypeError, ValueError):
        raise BadToken(token[:12]) from None
    if not isinstance(value, list):
        raise BadToken(token[:12])
    return value


def confirm_token(*, subscriber_id: int, email: str, held_id: int | None = None) -> str:
    """Double opt-in link: confirms this subscriber at this address (applying the held
    sign-up `held_id`, if any), unless they unsubscribed after it was issued."""
    return _timed_dumps([subscriber_id, email_fingerprint(email), _now_us(), held_id], _CONFIRM)


def confirm_token_read(token: str) -> TimedLink:
    """The link's content; compare its fingerprint and issue time with the stored subscriber."""
    return _timed_link(token, _timed_loads(token, _CONFIRM, CONFIRM_LINK_AGE))


def signin_token(*, subscriber_id: int, email: str) -> str:
    """Magic link: signs this subscriber in while the address is unchanged and the link young."""
    return _timed_dumps([subscriber_id, email_fingerprint(email), _now_us()], _SIGNIN)


def signin_token_read(token: str) -> TimedLink:
    return _timed_link(token, _timed_loads(token, _SIGNIN, SIGNIN_LINK_AGE))


def email_change_token(*, subscriber_id: int, old_email: str, new_email: str) -> str:
    """Sent to the new address: proves the reader owns it before the change is made."""
    return _timed_dumps([subscriber_id, email_fingerprint(old_email), new_email], _EMAIL_CHANGE)


def email_change_token_read(token: str) -> tuple[int, str, str]:
    """(subscriber id, old address fingerprint, new address)."""
    subscriber_id, fingerprint, new_email = _timed_loads(
        token, _EMAIL_CHANGE, EMAIL_CHANGE_LINK_AGE
    )
    return int(subscriber_id), str(fingerprint), str(new_email)
