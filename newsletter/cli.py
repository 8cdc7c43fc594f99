"""Shared pieces of the management commands: date arguments and progress bars."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError
from tqdm import tqdm

__all__ = ["parse_date", "progress_bar"]


def parse_date(value: str | None) -> dt.date | None:
    """Parse --date YYYY-MM-DD, with a clear error."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} is not a date like 2026-06-18") from None


@contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[tqdm]:
    """A progress bar on standard error (quiet when it is not a terminal)."""
    with tqdm(
        total=total, desc=description, unit="item", file=sys.stderr, disable=None, leave=False
    ) as bar:
        yield bar
