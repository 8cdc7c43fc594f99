"""A reader's whole way in headless Chromium: sign up, confirm from the mail, edit, leave."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

import pytest
from playwright.sync_api import expect

from subscribers.models import Subscriber
from tests.conftest import ARTIFACTS
from tests.factories import make_paper, make_topic

HOSTILE = '<img src=x onerror="window.pwned=1"> Diffusion language models'


def _confirmation_path(outbox: Path) -> str:
    [path] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://[^/\s]+(/confirm/[^/\s]+/)", text)[1]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_up_confirm_edit_with_live_preview_and_unsubscribe(live_server, page, outbox_dir):
    # given a featured topic and a day of papers, one with a hostile title
    make_topic(slug="llm", names={"en": "Large Language Models", "zh": "语言大模型"}, featured=True)
    make_paper(title=HOSTILE, abstract="We study diffusion for text generation.")
    make_paper(
        title="Protein folding with graph networks",
        abstract="Proteins fold.",
        authors=[{"name": "Yongjin Yang", "affiliations": []}],
    )
    make_paper(title="A survey of retrieval", abstract="Retrieval everywhere.")
    ARTIFACTS.mkdir(exist_ok=True)
    # the browser lives in Shanghai: the form should notice
    page.context.new_cdp_session(page).send(
        "Emulation.setTimezoneOverride", {"timezoneId": "Asia/Shanghai"}
    )

    # when a visitor fills in the sign-up form
    page.goto(live_server.url + "/subscribe/")
    expect(page.locator("#id_timezone")).to_have_value("Asia/Shanghai")
    page.fill("#id_email", "ada@example.org")
    page.get_by_label("Large Language Models").check()
    page.fill("#id_keywords", "diffusion")
    page.fill("#id_categories", "cs.CL")
    page.screenshot(path=str(ARTIFACTS / "signup.png"), full_page=True)
    page.click("#signup-submit")

    # then they are told to check their inbox, and a pending subscriber waits
    expect(page.locator("#signup-done")).to_have_text("Check your inbox")
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.timezone == "Asia/Shanghai"

    # when they open the link from the mail and press the button
    page.goto(live_server.url + _confirmation_path(outbox_dir))
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    page.click("#confirm")

    # then they land on their profile, signed in, with a preview of the last day
    page.wait_for_url(live_server.url + "/profile/")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    first_title = page.locator("#preview-items .preview-item .title").first
    expect(first_title).to_have_text(HOSTILE)  # shown as text, not markup
    assert page.evaluate("window.pwned") is None

    # when they change their keywords
    page.fill("#id_keywords", "protein folding")

    # then the preview follows without a reload
    expect(first_title).to_have_text("Protein folding with graph networks")
    expect(page.locator("#preview-items .reason").first).to_have_text("keyword: protein folding")
    expect(page.locator("#preview-status")).to_contain_text("Your digest for 2026-06-18")

    # when they look an author up among the day's papers and add them
    page.fill("#author-search-input", "Yong")
    expect(page.locator("#author-suggestions option")).to_have_attribute("value", "Yongjin Yang")
    page.fill("#author-search-input", "Yongjin Yang")
    page.click("#author-add")
    expect(page.locator("#id_authors")).to_have_value("Yongjin Yang")

    # then the preview gives the reason that now weighs most, first (the keyword's share after)
    expect(page.locator("#preview-items .reason").first).to_have_text(
        re.compile(r"^author you follow: Yongjin Yang( · |$)")
    )

    # when the hostile paper's keyword comes back, then the script shows its title as text too
    page.fill("#id_keywords", "protein folding, diffusion")
    expect(page.locator("#preview-items .title").nth(1)).to_have_text(HOSTILE)
    assert page.locator("#preview-items img").count() == 0
    assert page.evaluate("window.pwned") is None
    page.screenshot(path=str(ARTIFACTS / "profile.png"), full_page=True)

    # when they save, then unsubscribe
    page.click("#profile-save")
    expect(page.locator("#messages")).to_contain_text("Your profile is saved.")
    subscriber.refresh_from_db()
    assert subscriber.profile.keywords == ["protein folding", "diffusion"]
    assert subscriber.profile.authors == ["Yongjin Yang"]
    page.click("#unsubscribe")

    # then the page says so, and so does the database
    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
