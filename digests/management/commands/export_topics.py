"""`export_topics`: the topic catalogue as a JSON array on standard output."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from digests.catalogue.topics import topics_export


class Command(BaseCommand):
    help = "Print the topic catalogue as JSON, in the format import_topics reads."

    def handle(self, *args: Any, **options: Any) -> None:
        topics = topics_export()
        self.stdout.write(json.dumps(topics, indent=2, ensure_ascii=False))
        self.stderr.write(f"exported {len(topics)} topics", style_func=self.style.SUCCESS)
