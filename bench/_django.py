"""The one-process benches' start (delivery.py, enrich.py, ingest.py, ingest_biorxiv.py): a
throw-away work folder, Django set up on the environment's settings, the database migrated."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["django_ready"]


def django_ready(prefix: str) -> Path:
    """A new work folder (its data/ the DATA_DIR unless the environment sets one), with Django
    set up and the database (DATABASE_URL, else SQLite there) migrated; the folder."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.setdefault("DATA_DIR", str(workdir / "data"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return workdir
