"""`run_daily [--date D]`: the whole pipeline for one day, synchronously, in this process."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from digests.arxiv.client import ArxivUnavailable
from digests.daily import categories_needed, daily_run
from newsletter.cli import parse_date, progress_bar


class Command(BaseCommand):
    help = "Ingest the day's announcement, then assemble and send every active subscriber's digest."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="announcement day YYYY-MM-DD (default: the current one)")

    def handle(self, *args, date: str | None, **options) -> None:
        if not categories_needed():
            raise CommandError("no active subscriber: nothing to do")
        with progress_bar("ingesting") as ingest_bar, progress_bar("sending") as send_bar:
            try:
                ingest, send = daily_run(
                    date=parse_date(date),
                    ingest_progress=ingest_bar.update,
                    send_progress=send_bar.update,
                )
            except ArxivUnavailable as error:
                raise CommandError(f"{error}; what was stored stays stored, run again") from error
        self.stdout.write(ingest.summary())
        self.stdout.write(send.summary())
