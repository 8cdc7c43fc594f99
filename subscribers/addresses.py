"""One spelling per mailbox: addresses are normalised before they are stored, looked up or counted.

`"victim"@Example.org`, `victim@EXAMPLE.ORG` and `victim@example.org` reach one mailbox, and so do
`ada@bücher.example` and `ada@xn--bcher-kva.example`. Left as typed, each would get its own row,
its own confirmation and its own rate-limit count. The local part keeps its case (RFC 5321 leaves
it to the receiving server); the unique index and the look-ups ignore case anyway.
"""

from __future__ import annotations

import contextlib
import hashlib

from django.conf import settings
from email_validator import EmailNotValidError, validate_email

__all__ = ["email_fingerprint", "email_normalise"]


def email_fingerprint(email: str) -> str:
    """A keyed hash of the address: changes when the address does, reveals nothing."""
    key = settings.SECRET_KEY.encode()
    return hashlib.blake2b(email.strip().lower().encode(), key=key[:64], digest_size=16).hexdigest()


def _fallback(address: str) -> str:
    """Domain lower-cased and IDNA-encoded, for what Django accepts and email-validator does not
    (e.g. `reader@localhost`)."""
    local, _at, domain = address.rpartition("@")
    domain = domain.lower()
    # A name IDNA cannot encode (a domain literal) is kept as typed, lower-cased.
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def email_normalise(address: str) -> str:
    """The canonical spelling of an address Django's validator accepted.

    Quotes that are not needed are removed from the local part, the domain is lower-cased and
    written in its ASCII (punycode) form. Never raises: an address email-validator refuses (a
    special-use domain such as `localhost`) only gets its domain lower-cased and encoded.
    """
    address = address.strip()
    if "@" not in address:
        return address
    try:
        valid = validate_email(
            address,
            check_deliverability=False,  # no DNS: this is about spelling, not reachability
            allow_quoted_local=True,
            allow_domain_literal=True,
            globally_deliverable=False,
        )
    except EmailNotValidError:
        return _fallback(address)
    return f"{valid.local_part}@{valid.ascii_domain}"
