"""`import_topics FILE`: upsert the topic catalogue from a JSON array ("-" reads standard input)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from digests.catalogue.topics import CatalogueError, topics_import


class Command(BaseCommand):
    help = "Import the topic catalogue (a JSON array, parents before children); safe to run twice."
    # call_command(..., stdin=io.StringIO(...)) stands in for standard input in tests.
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help='JSON file, or "-" for standard input')

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            if file == "-":
                text = (options.get("stdin") or sys.stdin).read()
            else:
                text = Path(file).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"no such file: {file}") from None
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        except UnicodeDecodeError as error:
            raise CommandError(f"{file}: not valid UTF-8 (byte {error.start + 1})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{file}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
            ) from None
        try:
            report = topics_import(data=data)
        except CatalogueError as error:
            raise CommandError(f"{file}: {error}") from None
        for index, slug, reason in report.errors:
            self.stderr.write(f"entry {index} ({slug or 'no slug'}): {reason}")
        self.stdout.write(
            f"imported {report.imported} topics ({report.created} created, "
            f"{report.updated} updated), {report.rejected} rejected"
        )
        if report.errors:
            raise CommandError(f"{report.rejected} topics rejected (the others were imported)")
