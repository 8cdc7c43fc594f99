"""`export_subscribers`: every subscriber with their profile as JSON lines on standard output."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from newsletter.cli import progress_bar
from subscribers.importing import subscribers_export
from subscribers.models import Subscriber


class Command(BaseCommand):
    help = "Print every subscriber as a JSON line, in the format import_subscribers reads."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        with progress_bar("exporting subscribers", total=Subscriber.objects.count()) as bar:
            for obj in subscribers_export():
                self.stdout.write(json.dumps(obj, ensure_ascii=False))
                count += 1
                bar.update(1)
        self.stderr.write(f"exported {count} subscribers", style_func=self.style.SUCCESS)
