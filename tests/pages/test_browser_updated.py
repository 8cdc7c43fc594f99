"""The "updated" section of a real second day's e-mail in headless Chromium, light and dark:
readable (WCAG AA contrast), within a phone's width; screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

from digests.models import Digest
from digests.render import digest_render
from tests.conftest import ARTIFACTS
from tests.digests.test_real_day import DAY1, DAY2, _days, _run
from tests.pages.test_browser_email import CONTRASTS_JS


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_updated_section_reads_in_light_and_dark(
    request, tmp_path, serve_arxiv, llm_stub, outbox_dir, catalogue
):
    from tests.factories import make_subscriber

    reader = make_subscriber(
        email="en@example.org", language="en", authors=["Yongjin Yang"],
        keywords=["reinforcement learning"], categories=["cs.CL"], min_relevance=1,
    )  # fmt: skip
    one, two = _days(tmp_path)
    _run(serve_arxiv, one, DAY1)
    _run(serve_arxiv, two, DAY2)
    html = digest_render(Digest.objects.get(subscriber=reader, issue_date=DAY2)).html
    page = request.getfixturevalue("page")  # after the pipeline: its LLM calls run asyncio
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        for width in (600, 375):
            page.set_viewport_size({"width": width, "height": 900})
            page.emulate_media(color_scheme=scheme)
            page.set_content(html)
            text = page.inner_text("body")
            assert "Updated papers you got before" in text
            assert f"updated: you got v1 on {DAY1}" in text
            assert "Accepted at ICML 2026" in text
            page.screenshot(
                path=str(ARTIFACTS / f"email_updated_{scheme}_{width}.png"), full_page=True
            )
            poor = [c for c in page.evaluate(CONTRASTS_JS) if c["ratio"] < 4.5]
            assert not poor, (scheme, width, poor)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
