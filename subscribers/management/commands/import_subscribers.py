"""`import_subscribers FILE`: upsert subscribers from JSON lines ("-" reads standard input)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError

from newsletter.cli import progress_bar
from subscribers.importing import subscribers_import


class Command(BaseCommand):
    help = "Import subscribers with their profiles, one JSON object a line; safe to run twice."
    # call_command(..., stdin=io.StringIO(...)) stands in for standard input in tests.
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help='JSON-lines file, or "-" for standard input')

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        if file == "-":
            stream: IO[Any] = options.get("stdin") or sys.stdin
            # Bytes, so a line that is not UTF-8 is rejected alone rather than ending the run.
            report = self._import(getattr(stream, "buffer", stream), total=None)
        else:
            path = Path(file)
            try:
                with path.open("rb") as stream:
                    total = sum(1 for _ in stream)
                    stream.seek(0)
                    report = self._import(stream, total=total)
            except FileNotFoundError:
                raise CommandError(f"no such file: {file}") from None
            except OSError as error:
                raise CommandError(f"cannot read {file}: {error.strerror}") from None
        for number, reason in report.errors:
            self.stderr.write(f"line {number}: {reason}")
        self.stdout.write(
            f"imported {report.imported} subscribers ({report.created} created, "
            f"{report.updated} updated), {report.rejected} lines rejected"
        )
        if report.errors:
            raise CommandError(f"{report.rejected} lines rejected (the other lines were imported)")

    def _import(self, lines: IO[Any], *, total: int | None):
        with progress_bar("importing subscribers", total=total) as bar:
            return subscribers_import(lines=lines, progress=bar.update)
