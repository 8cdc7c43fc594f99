"""`ingest [--date D] [--categories cs.CL,cs.AI]`: step 1 for one announcement day."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from digests.arxiv.client import ArxivUnavailable
from digests.daily import categories_needed
from digests.ingest import day_ingest
from digests.models import PipelineStep
from digests.models.run import step_recorded
from newsletter.cli import parse_date, progress_bar


class Command(BaseCommand):
    help = "Ingest the papers arXiv announced (the categories readers need: see ARXIV_CATEGORIES)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="announcement day YYYY-MM-DD (default: the current one)")
        parser.add_argument("--categories", help="comma-separated, e.g. cs.CL,cs.AI")

    def handle(self, *args, date: str | None, categories: str | None, **options) -> None:
        wanted = (
            {c.strip() for c in categories.split(",") if c.strip()}
            if categories
            else categories_needed()
        )
        if not wanted:
            raise CommandError(
                "no category to ingest: no active subscriber yet "
                "(ARXIV_CATEGORIES=all ingests every archive anyway)"
            )
        day = parse_date(date)
        with progress_bar("ingesting") as bar:
            try:
                with step_recorded(step=PipelineStep.INGEST, day=day or dt.date.today()) as timer:
                    report = day_ingest(categories=wanted, date=day, progress=bar.update)
                    timer.run.day = report.date or timer.run.day
            except ArxivUnavailable as error:
                raise CommandError(f"{error}; what was stored stays stored, run again") from error
        self.stdout.write(report.summary())
        if report.rejected_categories:
            raise CommandError(report.note.strip())
