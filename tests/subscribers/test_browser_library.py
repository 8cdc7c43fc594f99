"""A reader's library in headless Chromium: a real Zotero export chosen in the editor's upload
form, the report read, then the entries found listed in the editor and one dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from subscribers.library import LibraryEntry
from subscribers.tokens import signin_token
from tests.conftest import ARTIFACTS, DEMO_DAY
from tests.factories import make_subscriber
from tests.subscribers.library_stand_ins import arxiv_search_start

BIB = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "libraries"
    / ("piche_zotero_biblatex_excerpt.bib")
)


@pytest.fixture
def arxiv_search(settings):
    """arXiv's API over HTTP, for the lookup the import queues (run eagerly in tests)."""
    server = arxiv_search_start(DEMO_DAY)
    settings.ARXIV_API_URL = f"{server.base_url}/api/query"
    settings.ARXIV_REQUEST_DELAY = 0
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_upload_a_real_export_read_the_report_and_drop_an_entry(live_server, page, arxiv_search):
    # given a signed-in reader (the magic link's page, then its button)
    reader = make_subscriber(email="piche@example.org")
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(
        f"{live_server.url}/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/"
    )
    page.click("#signin")
    page.wait_for_url(live_server.url + "/profile/")
    expect(page.locator("#library-empty")).to_have_text("Nothing imported yet.")

    # when they choose their Zotero export and import it
    page.set_input_files("#id_file", str(BIB))
    page.click("#library-import")

    # then the report says what was found, and which entries were rejected, on which line
    expect(page.locator("#library-report")).to_contain_text(
        "7 entries: 4 arXiv papers found, 0 kept as text"
    )
    expect(page.locator("#library-rejected tbody tr")).to_have_count(3)
    expect(page.locator("#library-rejected tbody tr").first).to_contain_text(
        "duplicate of the entry on line"
    )
    page.screenshot(path=str(ARTIFACTS / "library-report.png"), full_page=True)

    # when they go back to their library
    page.click("#library-back")

    # then the editor lists the four papers, and dropping one leaves three
    entries = page.locator("#library .library-entry")
    expect(entries).to_have_count(4)
    expect(page.locator("#library-counts")).to_contain_text("4 entries shape your profile")
    first = LibraryEntry.objects.filter(subscriber=reader).order_by("-added_at", "pk").first()
    assert first is not None
    page.click(f"#library-drop-{first.pk}")
    expect(page.locator("#messages")).to_contain_text("The entry no longer shapes your digest.")
    expect(entries).to_have_count(3)
    assert LibraryEntry.objects.get(pk=first.pk).dropped
    page.locator("#library").screenshot(path=str(ARTIFACTS / "library.png"))
