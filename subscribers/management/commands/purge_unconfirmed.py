"""`purge_unconfirmed [--days N]`: delete sign-ups never confirmed, as the daily task does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from subscribers.purge import unconfirmed_purge


class Command(BaseCommand):
    help = (
        "Delete pending sign-ups never confirmed after UNCONFIRMED_PURGE_DAYS (or --days), "
        "and held sign-ups whose confirmation link expired."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="age in days (default UNCONFIRMED_PURGE_DAYS)"
        )

    def handle(self, *args: Any, days: int | None = None, **options: Any) -> None:
        if days is not None and days < 1:
            raise CommandError(f"--days must be at least 1, not {days}")
        report = unconfirmed_purge(days=days)
        self.stderr.write(report.summary(), style_func=self.style.SUCCESS)
