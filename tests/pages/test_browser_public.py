"""The topic and author pages in headless Chromium: hostile text stays text, nothing runs."""

from __future__ import annotations

import pytest

from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import AnnounceType, Enrichment, Paper
from digests.scoring.lexical import LEXICAL_VERSION
from pages.topic_relevance import topic_day_relevance
from tests.conftest import ARTIFACTS
from tests.factories import make_enrichment, make_paper, make_topic

TITLE = "<script>alert('title')</script> Beyond Reward Engineering"
AUTHOR = "<img src=x onerror=alert('author')> Eve Mallory"
SUMMARY = "[click me](javascript:alert('summary')) 一句话总结"
REASON = "javascript:alert('reason') 通过数据配方提升长上下文推理"
TRANSLATED_TITLE = "<svg onload=alert('zh')>超越奖励工程"
ABSTRACT = "<img src=x onerror=alert('abstract')> Long-context reasoning matters."


def _hostile_day() -> Paper:
    llm = make_topic(
        slug="llm",
        names={"en": "Large Language Models", "zh": "语言大模型"},
        descriptions={"zh": "大语言模型、预训练、指令微调、后训练和语言模型应用。"},
        categories=["cs.CL", "cs.AI", "cs.LG"],
        featured=True,
    )
    make_topic(slug="post-training", names={"en": "Post-training", "zh": "后训练"}, parent=llm)
    paper = make_paper(
        title=TITLE,
        abstract=ABSTRACT,
        comment="<a href=\"javascript:alert('comment')\">15 pages</a>",
        categories=["cs.CL", "cs.AI"],
        announce_type=AnnounceType.NEW,
        authors=[
            {"name": AUTHOR, "affiliations": ["Tsinghua University"]},
            {"name": "Xu Han", "affiliations": ["Tsinghua University"]},
        ],
    )
    make_enrichment(
        paper=paper,
        language="zh",
        prompt_version=ENRICH_PROMPT_VERSION,
        title=TRANSLATED_TITLE,
        abstract="<script>alert('zh-abstract')</script>长上下文推理是关键能力。",
        summary=SUMMARY,
        affiliations=["清华大学"],
        topic_hits=[{"topic": "post-training", "score": 85, "reason": REASON}],
    )
    make_enrichment(
        paper=paper,
        language="en",
        prompt_version=LEXICAL_VERSION,
        status=Enrichment.Status.LLM_LESS,
        title=paper.title,
        summary="Long-context reasoning matters.",
        topic_hits=[{"topic": "post-training", "score": 54, "reason": "GRPO"}],
    )
    return paper


def _fail_on_dialogs(page) -> list[str]:
    dialogs: list[str] = []

    def record(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return dialogs


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_topic_and_author_pages_show_hostile_text_as_text(live_server, page, recorded_arxiv):
    # given a day whose paper and model output carry scripts, handlers and javascript: links
    paper = _hostile_day()
    dialogs = _fail_on_dialogs(page)
    page.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})

    # when Chromium opens the topic page and unfolds the abstracts
    response = page.goto(live_server.url + "/topics/llm/")
    page.locator("details.abstracts summary").first.click()

    # then the hostile strings are visible as text, nothing ran, and no link goes to javascript:
    assert response is not None and response.status == 200
    body = page.locator("main").inner_text()
    for text in (TITLE, AUTHOR, SUMMARY, TRANSLATED_TITLE, ABSTRACT):
        assert text in body
    assert "后训练: " + REASON in body
    # the % is the scorer's relevance for a reader of this topic alone, as in that reader's e-mail
    relevance, _ = topic_day_relevance(
        day=paper.announce_date,
        slug="llm",
        slugs=["llm", "post-training"],
        parents={"post-training": "llm"},
    )
    assert "新提交" in body and f"{relevance[paper.pk][0]}%" in body
    assert "Tsinghua University(清华大学)" in body
    assert page.locator("main script, main img, main svg").count() == 0
    hrefs = page.locator("main a").evaluate_all("links => links.map(a => a.href)")
    assert not [h for h in hrefs if h.lower().startswith("javascript")]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "topic.png"), full_page=True)

    # when the hostile author's name is followed to their page
    page.get_by_role("link", name=AUTHOR).click()
    page.wait_for_url("**/authors/**")

    # then their page lists the paper, their name shown as text, still nothing ran
    assert page.locator("#author").inner_text().endswith(AUTHOR)
    assert TITLE in page.locator("#papers").inner_text()
    assert page.locator("main script, main img, main svg").count() == 0
    page.screenshot(path=str(ARTIFACTS / "author.png"), full_page=True)
    assert dialogs == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_topic_page_date_picker_submits_the_day(live_server, page):
    # given papers on two days
    _hostile_day()
    make_paper(title="An earlier paper", announce_date="2026-06-17")

    # when a reader picks the earlier day in the date form and submits it
    page.goto(live_server.url + "/topics/llm/")
    page.fill("input[type=date]", "2026-06-17")
    page.click("#day-picker button[type=submit]")
    page.wait_for_url("**/topics/llm/?date=2026-06-17")

    # then that day's page answers, with its way forward to the later day
    assert page.locator("#next-day").get_attribute("href") == "?date=2026-06-18"
    assert page.locator("input[type=date]").input_value() == "2026-06-17"
