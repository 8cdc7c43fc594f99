"""Links signed in bulk: the same tokens as `subscribers.tokens` makes with Django's signing.

`django.core.signing.dumps` derives its HMAC key, builds a signer and reads the settings on
every call (about 25 µs); a digest signs three links per paper and three of its own.
`Signer` derives the key once per salt and signs with a copy of a keyed HMAC, giving
byte-identical tokens (the tests compare them with Django's at the same second and read them
back with the readers in `subscribers.tokens`).

Django compresses every value with `zlib.compress` and keeps the compressed form when it is
shorter. For a value of a few dozen bytes it never is, yet each call allocates zlib's full
window (hundreds of KB; tens of µs when the allocator maps and unmaps it every time). A value
that short is tried first with a window of 512 bytes, which finds the same matches in it (the
whole value fits the window and every hash chain): only when that comes near paying is
`zlib.compress` itself asked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.signing import b62_encode

from subscribers.addresses import email_fingerprint

if TYPE_CHECKING:
    from digests.models import Digest

__all__ = ["ChunkSigners", "FeedbackSigner", "Signer", "compressed"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


SHORT = 32  # bytes: a value whose hash chains zlib searches to the end at any window size
_MARGIN = 4  # bytes the small window's result must lose by to be taken as zlib's answer


def compressed(data: bytes) -> bytes | None:
    """`zlib.compress(data)` if it is shorter than `data - 1` bytes (as `signing.dumps` keeps
    it compressed), else None."""
    if len(data) <= SHORT:
        small = zlib.compressobj(6, zlib.DEFLATED, 9, 1)
        if len(small.compress(data)) + len(small.flush()) >= len(data) + _MARGIN:
            return None
    packed = zlib.compress(data)
    return packed if len(packed) < len(data) - 1 else None


class Signer:
    """`signing.dumps(value, salt=salt, compress=True)` at one timestamp (the moment made)."""

    def __init__(self, salt: str, *, now: float | None = None) -> None:
        key = hashlib.sha256((salt + "signer").encode() + settings.SECRET_KEY.encode()).digest()
        keyed = hmac.new(key, digestmod=hashlib.sha256)
        # OpenSSL's keyed HMAC when the module holds one: its copy skips a Python wrapper
        self._hmac: Any = getattr(keyed, "_hmac", None) or keyed
        self._timestamp = ":" + b62_encode(int(time.time() if now is None else now))

    def signed(self, data: bytes) -> str:
        """The token of `data`, a value as Django's JSONSerializer writes it."""
        packed = compressed(data)
        payload = _b64(data) if packed is None else "." + _b64(packed)
        value = payload + self._timestamp
        signature = self._hmac.copy()
        signature.update(value.encode())
        return value + ":" + _b64(signature.digest())

    def dumps(self, value: object) -> str:
        return self.signed(json.dumps(value, separators=(",", ":")).encode("latin-1"))


class FeedbackSigner(Signer):
    """Signs `[subscriber_id, paper_id, signal]` as `subscribers.tokens.feedback_token`."""

    def __init__(self, *, now: float | None = None) -> None:
        super().__init__("subscribers.feedback", now=now)  # subscribers.tokens._FEEDBACK

    def token(self, subscriber_id: int, paper_id: int, signal: str) -> str:
        # json.dumps of two ints and a signal's plain name, without json's machinery
        return self.signed(f'[{int(subscriber_id)},{int(paper_id)},"{signal}"]'.encode())


# Salts of subscribers.tokens (digest_token, unsubscribe_token) and render.manage_url.
_DIGEST_SALT, _UNSUBSCRIBE_SALT = "digests.view", "subscribers.unsubscribe"
_MANAGE_SALT = "pages.manage"


@dataclass
class ChunkSigners:
    """The chunk's signers: one timestamp, keys derived once."""

    feedback: FeedbackSigner
    digest: Signer
    unsubscribe: Signer
    manage: Signer

    @classmethod
    def now(cls) -> ChunkSigners:
        return cls(
            FeedbackSigner(), Signer(_DIGEST_SALT), Signer(_UNSUBSCRIBE_SALT), Signer(_MANAGE_SALT)
        )

    def reader_tokens(self, digest: Digest) -> dict[str, str]:
        sid, email = digest.subscriber_id, digest.subscriber.email
        return {
            "digest": self.digest.dumps(digest.pk),
            "unsubscribe": self.unsubscribe.dumps([sid, email_fingerprint(email)]),
            "manage": self.manage.dumps(sid),
        }
