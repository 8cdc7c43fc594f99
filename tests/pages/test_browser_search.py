"""In headless Chromium: a signed-in reader sees their archive, searches the papers, saves one
from the e-mail's link and one from the results, and downloads the list as BibTeX."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pybtex.database import parse_string

from digests.models import Digest, SavedPaper
from subscribers.tokens import feedback_token, signin_token
from tests.conftest import ARTIFACTS
from tests.factories import make_digest, make_digest_item, make_paper, make_subscriber

HOSTILE = "<img src=x onerror=alert('search')> Sparse attention for hostile inputs"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_archive_search_save_and_export_in_the_browser(live_server, page):
    # given a reader with one digest received, and papers on sparse attention
    reader = make_subscriber(email="searcher@example.org", keywords=["sparse attention"])
    digest = make_digest(subscriber=reader, issue_date=dt.date(2026, 6, 18))
    from_mail = make_digest_item(
        digest=digest,
        paper=make_paper(arxiv_id="2606.18831", title="Sparse attention kernels"),
        reason="keyword: sparse attention",
    ).paper
    Digest.objects.filter(pk=digest.pk).update(status=Digest.Status.SENT)
    hostile = make_paper(arxiv_id="2606.18832", title=HOSTILE)
    make_paper(arxiv_id="2606.18833", title="Graph colouring")
    dialogs: list[str] = []

    def record(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)

    # when they sign in and open their archive
    page.goto(
        f"{live_server.url}/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/"
    )
    page.click("#signin")
    page.wait_for_url(live_server.url + "/profile/")
    page.click("#nav-archive")

    # then the day's digest is there with its paper and reason
    assert page.locator("#day-2026-06-18").inner_text().count("Sparse attention kernels") == 1
    assert "keyword: sparse attention" in page.locator("#day-2026-06-18").inner_text()

    # when they search from the search box
    page.click("#nav-search")
    page.fill("#q", "sparse attention")
    page.select_option("#sort", "profile")
    page.click("#search-button")

    # then both matching papers are listed, the hostile title as text, nothing ran
    page.wait_for_selector(f"[id='paper-{hostile.arxiv_id}']")
    assert page.locator("#count").inner_text().startswith("2 papers match.")
    assert HOSTILE in page.locator(f"[id='paper-{hostile.arxiv_id}'] .title").inner_text()
    assert page.locator("[id='paper-2606.18833']").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)

    # when they save the hostile one from the results, and the other from the e-mail's link
    page.click(f"[id='paper-{hostile.arxiv_id}'] .save-button")
    page.wait_for_selector(f"[id='paper-{hostile.arxiv_id}'] .unsave-button")
    token = feedback_token(subscriber_id=reader.pk, paper_id=from_mail.pk, signal="save")
    page.goto(f"{live_server.url}/s/{token}/")
    assert SavedPaper.objects.filter(paper=from_mail).count() == 0  # the page alone saves nothing
    page.click("#confirm")
    page.click("#reading-list")

    # then the reading list holds both, and its BibTeX download reads back as two entries
    assert page.locator("#count").inner_text().startswith("2 papers saved.")
    with page.expect_download() as download:
        page.click("#export-bib")
    bibtex = Path(download.value.path()).read_text(encoding="utf-8")
    entries = parse_string(bibtex, "bibtex").entries.values()
    assert {entry.fields["eprint"] for entry in entries} == {"2606.18831", "2606.18832"}
    assert all(entry.fields["archivePrefix"] == "arXiv" for entry in entries)
    assert dialogs == []
