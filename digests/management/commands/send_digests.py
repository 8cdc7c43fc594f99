"""`send_digests [--date D] [--now]`: assemble and send the digest to every subscriber due."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from digests.daily import digests_send
from digests.readings import latest_issue_date
from newsletter.cli import parse_date, progress_bar


class Command(BaseCommand):
    help = "Assemble and send the digests of an announcement day to the subscribers due."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="announcement day YYYY-MM-DD (default: the latest)")
        parser.add_argument("--now", action="store_true", help="send to everyone, due or not")

    def handle(self, *args, date: str | None, now: bool, **options) -> None:
        issue_date = latest_issue_date(parse_date(date))
        with progress_bar("sending") as bar:
            report = digests_send(issue_date=issue_date, everyone=now, progress=bar.update)
        self.stdout.write(report.summary())
