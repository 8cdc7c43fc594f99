"""`enrich [--date D]`: step 2 for the papers of one announcement day."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from digests.daily import day_enrich
from digests.models import Paper
from digests.readings import latest_issue_date
from newsletter.cli import parse_date, progress_bar


class Command(BaseCommand):
    help = "Translate, summarise and match the day's papers, once per language (cached)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="announcement day YYYY-MM-DD (default: the latest)")

    def handle(self, *args, date: str | None, **options) -> None:
        day = parse_date(date) or latest_issue_date()
        if day is None:
            raise CommandError("no announcement day ingested yet: run `ingest` first")
        total = Paper.objects.filter(announce_date=day).count()
        with progress_bar("enriching", total=total) as bar:
            enriched, briefs = day_enrich(date=day, progress=bar.update)
        self.stdout.write(enriched.summary())
        self.stdout.write(briefs.summary())
