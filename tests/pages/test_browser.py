"""The site in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS
from tests.factories import make_paper, make_topic


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_home_page_lists_featured_topics_and_the_latest_day(live_server, page):
    # given a featured topic, a hidden one, and a paper of the latest day
    make_topic(slug="llm", names={"en": "Large Language Models", "zh": "语言大模型"}, featured=True)
    make_topic(slug="hidden", names={"en": "Hidden Topic", "zh": "隐藏"}, featured=False)
    make_paper(title="<script>alert(1)</script> A paper")

    # when Chromium opens the home page
    response = page.goto(live_server.url + "/")

    # then it shows the featured topic in both languages, not the hidden one, and the day's count
    assert response is not None and response.status == 200
    topics = page.locator("#topics").inner_text()
    assert "Large Language Models" in topics
    assert "语言大模型" in topics
    assert "Hidden Topic" not in topics
    assert page.locator("#latest").inner_text() == "Latest announcement: 2026-06-18 · 1 paper"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    print(f"browser: {page.context.browser.browser_type.name} {page.context.browser.version}")
