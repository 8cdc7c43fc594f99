"""Signed links for e-mails: unsubscribe (per reader) and feedback (per reader and paper).

Stateless and unguessable: Django's signing with a purpose-specific salt, so a token for one
purpose is worthless for another. They carry ids, never e-mail addresses.
"""

from __future__ import annotations

from typing import Any

from django.core import signing

__all__ = [
    "BadToken",
    "ExpiredToken",
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


def unsubscribe_token(*, subscriber_id: int) -> str:
    return signing.dumps(subscriber_id, salt=_UNSUBSCRIBE, compress=True)


def unsubscribe_token_read(token: str) -> int:
    try:
        return int(signing.loads(token, salt=_UNSUBSCRIBE))
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


def _fingerprint(email: str) -> str:
    from subscribers.session import email_fingerprint

    return email_fingerprint(email)


def confirm_token(*, subscriber_id: int, email: str) -> str:
    """Double opt-in link: confirms this subscriber at this address."""
    return _timed_dumps([subscriber_id, _fingerprint(email)], _CONFIRM)


def confirm_token_read(token: str) -> tuple[int, str]:
    """(subscriber id, address fingerprint); compare the fingerprint with the stored address."""
    subscriber_id, fingerprint = _timed_loads(token, _CONFIRM, CONFIRM_LINK_AGE)
    return int(subscriber_id), str(fingerprint)


def signin_token(*, subscriber_id: int, email: str) -> str:
    """Magic link: signs this subscriber in while the address is unchanged and the link young."""
    return _timed_dumps([subscriber_id, _fingerprint(email)], _SIGNIN)


def signin_token_read(token: str) -> tuple[int, str]:
    subscriber_id, fingerprint = _timed_loads(token, _SIGNIN, SIGNIN_LINK_AGE)
    return int(subscriber_id), str(fingerprint)


def email_change_token(*, subscriber_id: int, old_email: str, new_email: str) -> str:
    """Sent to the new address: proves the reader owns it before the change is made."""
    return _timed_dumps([subscriber_id, _fingerprint(old_email), new_email], _EMAIL_CHANGE)


def email_change_token_read(token: str) -> tuple[int, str, str]:
    """(subscriber id, old address fingerprint, new address)."""
    subscriber_id, fingerprint, new_email = _timed_loads(
        token, _EMAIL_CHANGE, EMAIL_CHANGE_LINK_AGE
    )
    return int(subscriber_id), str(fingerprint), str(new_email)
