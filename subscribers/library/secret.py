"""The reader's Zotero API key, encrypted at rest with a key derived from SECRET_KEY.

Fernet (AES in CBC mode with an HMAC) from `cryptography`; the key is never logged or shown. A
SECRET_KEY that changes makes the stored keys unreadable: `secret_open` says so, and the reader
is asked for their key again.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

__all__ = ["SecretUnreadable", "secret_open", "secret_seal"]


class SecretUnreadable(ValueError):
    """The stored secret was sealed under another SECRET_KEY (or altered)."""


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"arxiv-digest:zotero-key:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def secret_seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def secret_open(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("the stored Zotero key cannot be read; enter it again") from None
