"""`import_library --email ADDRESS FILE`: a reader's library (BibTeX, RIS, CSL-JSON, a list of
arXiv ids or URLs) as their seed papers; DOIs looked up on arXiv now, or by a worker with
`--no-lookup`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from newsletter.cli import progress_bar
from subscribers.addresses import email_normalise
from subscribers.library import (
    LibraryFileError,
    LookupUnavailable,
    library_file_read,
    library_import,
)
from subscribers.models import Subscriber
from subscribers.papers_side import papers_side


class Command(BaseCommand):
    help = "Import a reader's library as seed papers; safe to run twice."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True, help="the reader's address")
        parser.add_argument("file", help="BibTeX, RIS, CSL-JSON, or one arXiv id/URL/DOI a line")
        parser.add_argument(
            "--no-lookup",
            action="store_true",
            help="queue the arXiv lookup of DOIs for a worker instead of doing it now",
        )

    def handle(self, *args: Any, email: str, file: str, no_lookup: bool, **options: Any) -> None:
        subscriber = Subscriber.objects.filter(email__iexact=email_normalise(email)).first()
        if subscriber is None:
            raise CommandError(f"no subscriber with the address {email}")
        try:
            data = Path(file).read_bytes()
        except FileNotFoundError:
            raise CommandError(f"no such file: {file}") from None
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        try:
            read = library_file_read(data)
        except LibraryFileError as error:
            raise CommandError(str(error)) from None
        report = library_import(subscriber=subscriber, read=read)
        if no_lookup:
            papers_side().library_lookup_queue([subscriber.pk])
        else:  # DOIs looked up, and the papers that shape the profile fetched
            try:
                with progress_bar("looking the library up on arXiv", total=report.lookup) as bar:
                    lookup = papers_side().library_lookup(
                        subscriber_ids=[subscriber.pk], progress=bar.update
                    )
                report.resolved = lookup.resolved
            except LookupUnavailable as error:
                self.stderr.write(f"arXiv is unavailable ({error}): a worker will look it up")
                papers_side().library_lookup_queue([subscriber.pk])
        for rejected in report.rejected:
            self.stderr.write(f"line {rejected.line}: {rejected.reason}")
        self.stdout.write(report.summary())
