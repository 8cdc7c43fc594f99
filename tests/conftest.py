"""Shared fixtures. The database is whatever DATABASE_URL names (PostgreSQL in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_RECORDINGS = REPO.parent / "shared" / "arxiv-recorded"
DEMO_DAY = REPO / "digests" / "recorded" / "2026-06-18"


@pytest.fixture
def outbox_dir(tmp_path: Path, settings) -> Path:
    """Point the file e-mail backend at a fresh folder."""
    folder = tmp_path / "outbox"
    settings.EMAIL_BACKEND = "newsletter.mail.EmlFileBackend"
    settings.EMAIL_FILE_PATH = folder
    return folder
