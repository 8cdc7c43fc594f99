"""The e-mails a test wrote to the outbox (the file backend's .eml files), and their links."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path


def outbox_mails(outbox: Path) -> list[EmailMessage]:
    """Every message in the outbox, oldest first (none while nothing was sent)."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(outbox.glob("*.eml"))
    ]


def mail_path(message: EmailMessage, pattern: str) -> str:
    """The site path of the first link matching `pattern` in the plain-text part."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"https?://[^/\s]+(" + pattern + r")", text)
    assert found, text
    return found[1]
