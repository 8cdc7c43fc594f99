"""The embedded e-mail backend: one `.eml` file per message, ready to open in any mail client."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

__all__ = ["EmlFileBackend"]


class EmlFileBackend(BaseEmailBackend):
    """Write each message to EMAIL_FILE_PATH as `<UTC time>-<random>.eml` (RFC 5322 bytes)."""

    def __init__(self, *, file_path: str | Path | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        written = 0
        for message in email_messages:
            stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
            target = self.folder / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
            partial = target.with_suffix(".part")
            partial.write_bytes(message.message().as_bytes(linesep="\r\n"))
            partial.rename(target)  # readers never see a half-written file
            written += 1
        return written
