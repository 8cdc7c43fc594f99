"""The author page in headless Chromium: an author never ingested, found through the arXiv
replay; another batch; the chip that unfollows."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from subscribers.models import Subscriber
from subscribers.session import SESSION_KEY, email_fingerprint
from tests.conftest import ARTIFACTS
from tests.factories import make_paper, make_subscriber
from tests.pages.test_author_backfill import RECORDINGS


@pytest.fixture
def arxiv_search(serve_arxiv, shared_recordings, tmp_path):
    api = tmp_path / "day" / "api"
    api.mkdir(parents=True)
    for name in RECORDINGS:
        (api / name).symlink_to(shared_recordings / name)
    return serve_arxiv(tmp_path / "day")


def _dialogs(page) -> list[str]:
    seen: list[str] = []

    def record(dialog) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return seen


def _signed_in(page, live_server, subscriber: Subscriber) -> None:
    session = SessionStore()
    session[SESSION_KEY] = {
        "id": subscriber.pk,
        "fp": email_fingerprint(subscriber.email),
        "scope": "full",
    }
    session.save()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_author_we_never_ingested_is_found_on_arxiv(live_server, page, arxiv_search):
    # given no paper of Gordon Fraser held, and arXiv's recorded answers served locally
    dialogs = _dialogs(page)

    # when Chromium opens his page (the lookup runs at once: tasks are eager in tests)
    response = page.goto(live_server.url + "/authors/" + quote("Gordon Fraser") + "/")

    # then it lists his five papers from arXiv, under his chip, with their arXiv links
    assert response is not None and response.status == 200
    assert page.locator("#author-chip").inner_text().startswith("Author: Gordon Fraser")
    assert page.locator("article.public-paper").count() == 5
    assert page.locator("#count").inner_text() == "5 papers"
    hrefs = page.locator("article a.arxiv-id").evaluate_all("links => links.map(a => a.href)")
    assert all(h.startswith("https://arxiv.org/abs/") for h in hrefs)
    assert page.locator("#lookup").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "author_backfilled.png"), full_page=True)

    # when a hostile name is opened
    hostile = "<img src=x onerror=alert('name')> Eve"
    page.goto(live_server.url + "/authors/" + quote(hostile) + "/")

    # then it is shown as text, nothing ran
    assert hostile in page.locator("#author-chip").inner_text()
    assert page.locator("main img, main script").count() == 0
    assert dialogs == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_another_batch_and_the_chip_that_unfollows(live_server, page, arxiv_search):
    # given 25 ingested papers of Qifan Wang, and a Chinese reader who follows him
    day = dt.date(2026, 6, 18)
    for n in range(25):
        make_paper(
            title=f"Paper {n} of Qifan Wang",
            announce_date=day - dt.timedelta(days=n),
            authors=[{"name": "Qifan Wang", "affiliations": []}],
        )
    reader = make_subscriber(language="zh", authors=["Qifan Wang", "Yongjin Yang"])
    _signed_in(page, live_server, reader)

    # when the reader opens his page and presses 换一批
    page.goto(live_server.url + "/authors/" + quote("Qifan Wang") + "/")
    first = set(page.locator("article.public-paper").evaluate_all("a => a.map(e => e.id)"))
    page.get_by_role("link", name="换一批").first.click()
    page.wait_for_url("**/authors/Qifan%20Wang/?page=2")
    second = set(page.locator("article.public-paper").evaluate_all("a => a.map(e => e.id)"))

    # then the first batch held 20 papers, the next a different set: the five others
    assert len(first) == 20 and len(second) == 5 and not first & second

    # when they press the chip's ×
    page.locator("#unfollow").click()
    page.wait_for_url("**/authors/Qifan%20Wang/")

    # then he is no longer followed, and the page offers to follow him again
    reader.profile.refresh_from_db()
    assert reader.profile.authors == ["Yongjin Yang"]
    assert page.locator("#follow").is_visible()
    page.screenshot(path=str(ARTIFACTS / "author_chip.png"), full_page=True)
