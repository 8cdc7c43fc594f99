"""Shared fixtures. The database is whatever DATABASE_URL names (PostgreSQL in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connections

REPO = Path(__file__).resolve().parent.parent
# The real arXiv recordings are read in place (CI has ../shared beside the checkout).
SHARED_RECORDINGS = Path(
    os.environ.get("ARXIV_RECORDINGS", REPO.parent / "shared" / "arxiv-recorded")
)
DEMO_DAY = REPO / "devtools" / "recorded" / "2026-06-18"


@pytest.fixture(scope="session")
def shared_recordings() -> Path:
    """The folder of real arXiv recordings; its absence is a failure, never a skip."""
    if not SHARED_RECORDINGS.is_dir():
        pytest.fail(
            f"{SHARED_RECORDINGS} is missing: clone beside ../shared or set ARXIV_RECORDINGS"
        )
    return SHARED_RECORDINGS


@pytest.fixture(autouse=True)
def _plain_static_files(settings) -> None:
    """Tests render templates without `collectstatic`: no manifest to look names up in."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings) -> None:
    """Staff accounts hash their passwords with MD5 in tests: PBKDF2's million rounds cost half
    a second a user, and no test is about the hash's strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def outbox_dir(tmp_path: Path, settings) -> Path:
    """Point the file e-mail backend at a fresh folder."""
    folder = tmp_path / "outbox"
    settings.EMAIL_BACKEND = "newsletter.mail.EmlFileBackend"
    settings.EMAIL_FILE_PATH = folder
    return folder


@pytest.fixture
def serve_arxiv(settings):
    """Serve a day folder as arXiv over real HTTP, with the settings pointed at it."""
    from devtools.arxiv_replay import replay_server_start

    servers = []

    def serve(folder: Path):
        server = replay_server_start(folder)
        servers.append(server)
        settings.ARXIV_RSS_URL = server.rss_url
        settings.ARXIV_API_URL = server.api_url
        settings.ARXIV_HTML_URL = server.html_url
        settings.ARXIV_REQUEST_DELAY = 0
        return server

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def recorded_arxiv(serve_arxiv):
    """The shipped demo day, served."""
    return serve_arxiv(DEMO_DAY)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (throttle times, rate limits)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Tasks run in the caller's thread (Celery's testing mode), except in the tests marked
    `worker`, which send them through the real broker to a real worker process."""
    from newsletter.celery import app

    if request.node.get_closest_marker("worker"):
        yield
        return
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = False, False


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch) -> None:
    """Retries keep their count and order in tests, not their seconds of backoff."""
    monkeypatch.setattr("digests.arxiv.client.BACKOFF_INITIAL", 0.01)
    monkeypatch.setattr("digests.fanout.SEND_BACKOFF", 0.01)


def pytest_collection_modifyitems(config, items) -> None:
    """Under pytest-xdist (`-n 2 --dist loadgroup`), the `worker` tests all run in one process,
    one after the other: they start real Celery workers, and the fault tests share Redis DB 12
    and kill what they start. (xdist hands the largest group out first.)"""
    for item in items:
        if item.get_closest_marker("worker"):
            item.add_marker(pytest.mark.xdist_group("celery-workers"))


_yielding_cpu = False


def pytest_runtest_setup(item) -> None:
    """Under pytest-xdist, a process running the other tests lowers its CPU priority (and its
    children's: Chromium, gunicorn) once: the worker tests, mostly waiting on real processes
    and timers, then keep their pace on a busy machine, and the whole run ends sooner."""
    global _yielding_cpu
    if _yielding_cpu or "PYTEST_XDIST_WORKER" not in os.environ:
        return
    if not item.get_closest_marker("worker"):
        os.nice(5)
        _yielding_cpu = True


def pytest_report_header(config) -> list[str]:
    """Say which real servers this run uses, so the output shows it."""
    import shutil
    import subprocess

    from django.conf import settings
    from kombu.utils.url import maybe_sanitize_url

    db = settings.DATABASES["default"]
    chromium = shutil.which("chromium") or "missing"
    version = (
        subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout.strip()
        if chromium != "missing"
        else ""
    )
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or ''} {db['NAME']}",
        f"celery broker: {maybe_sanitize_url(settings.CELERY_BROKER_URL)}",
        f"browser: {chromium} {version}",
    ]


@pytest.fixture
def catalogue(db):
    """The shipped topic catalogue, imported."""
    import json

    from digests.catalogue.topics import topics_import

    data = json.loads((REPO / "digests" / "catalogue" / "default_topics.json").read_text())
    report = topics_import(data=data)
    assert report.errors == []
    return report


@pytest.fixture
def llm_stub(settings):
    """A local OpenAI-compatible server answering the demo day's recorded Chinese readings."""
    from devtools.llm_stub import canned_from_recorded, llm_stub_start

    canned = canned_from_recorded(DEMO_DAY, topic_slugs_by_name={"后训练": "post-training"})
    stub = llm_stub_start(canned=canned, api_key="test-key")
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_BASE_URL = stub.base_url
    settings.LLM_MODEL = "stub-model"
    settings.LLM_TIMEOUT = 5
    yield stub
    stub.stop()


@pytest.fixture
def esp(settings):
    """A local Postmark stand-in, with Anymail's real Postmark backend pointed at it."""
    from devtools.esp_stub import esp_stub_start

    stub = esp_stub_start()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "test-token", "POSTMARK_API_URL": stub.api_url}
    yield stub
    stub.stop()


CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = REPO / "test-artifacts"  # screenshots of the main pages


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    # Playwright's sync API runs an event loop in this thread; the live server's ORM calls are
    # made from Django's own threads, the test's from this one, which Django must allow.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser.new_page()
        browser.close()
        # The test's queries ran inside Playwright's greenlet context, whose connection the
        # test-database teardown cannot see: close it here, where it is visible.
        connections.close_all()
