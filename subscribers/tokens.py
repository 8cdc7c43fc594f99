"""Signed links for e-mails: unsubscribe (per reader) and feedback (per reader and paper).

Stateless and unguessable: Django's signing with a purpose-specific salt, so a token for one
purpose is worthless for another. They carry ids, never e-mail addresses.
"""

from __future__ import annotations

from django.core import signing

__all__ = [
    "BadToken",
    "feedback_token",
    "feedback_token_read",
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
