"""The topic page of a topic nobody featured, in headless Chromium: fifty papers and the brief."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS
from tests.pages.test_topic_page import _hit, _topic


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_topic_page_shows_its_brief_and_fifty_papers(live_server, page, settings):
    # given no LLM, a topic that is not featured, and 55 papers of the day hitting it, the best
    # one with a hostile title
    settings.OPENAI_API_KEY = ""
    _topic()
    _hit(score=99, title="<img src=x onerror=alert(1)> Policy optimization")
    for n in range(54):
        _hit(score=90 - n % 40, title=f"Reward paper {n}")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    # when Chromium opens its page in English
    page.set_extra_http_headers({"Accept-Language": "en"})
    response = page.goto(live_server.url + "/topics/rl/")

    # then the day's brief comes first, with the hostile title as text, then fifty papers,
    # numbered, and a link to the rest
    assert response is not None and response.status == 200
    brief = page.locator("#brief").inner_text()
    assert brief.startswith("The day in brief")
    assert "55 papers of 2026-06-18 hit Reinforcement Learning." in brief
    assert "“<img src=x onerror=alert(1)> Policy optimization” [1]" in brief
    assert page.locator("article.public-paper").count() == 50
    assert page.locator("article.public-paper .number").last.inner_text() == "50."
    assert page.locator("main img").count() == 0 and dialogs == []
    page.locator("#another-batch").click()
    page.wait_for_url("**/topics/rl/?date=2026-06-18&page=2")
    assert page.locator("article.public-paper").count() == 5
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "topic_brief.png"), full_page=True)
