"""The digest as sent: 8bit on the wire (not quoted-printable), under Gmail's clip, and when
cut for size it says so at the top, keeping the best paper of each interest."""

from __future__ import annotations

import datetime as dt
import email

import pytest

from digests.delivery import message_build
from digests.mail_html import lines_wrapped
from digests.render import GMAIL_CLIP_BYTES, digest_render
from tests.factories import make_digest, make_digest_item, make_paper, make_subscriber

DAY = dt.date(2026, 6, 18)


def test_long_lines_are_broken_where_nothing_changes_on_screen():
    html = '<div style="color:#111">' + "中文" * 900 + "</div>" + "<td>word</td>" * 200
    wrapped = lines_wrapped(html)
    assert max(len(line.encode()) for line in wrapped.split("\n")) <= 998
    assert wrapped.replace("<wbr\n>", "").replace("<td\n>", "<td>").replace("\n", "") == html


def _big_chinese_digest(papers: int):
    reader = make_subscriber(language="zh", email="zh@example.org")
    digest = make_digest(subscriber=reader, issue_date=DAY)
    for n in range(papers):
        paper = make_paper(
            arxiv_id=f"2606.{20000 + n}",
            title=f"Paper {n} " + "on long context reasoning " * 4,
            abstract="中文摘要，" * 300 + "English words " * 200,
            authors=[{"name": f"Author {k}", "affiliations": []} for k in range(30)],
        )
        reason = "keyword: GRPO" if n else "author you follow: Author 0"
        make_digest_item(digest=digest, paper=paper, rank=n + 1, relevance=90 - n, reason=reason)
    return digest


@pytest.mark.django_db
def test_a_chinese_digest_goes_8bit_under_the_clip(settings):
    settings.OPENAI_API_KEY = ""
    digest = _big_chinese_digest(6)

    raw = message_build(digest).message().as_bytes()
    html_part = next(
        p for p in email.message_from_bytes(raw).walk() if p.get_content_type() == "text/html"
    )

    assert html_part["Content-Transfer-Encoding"] == "8bit"
    assert len(html_part.get_payload(decode=False).encode()) < GMAIL_CLIP_BYTES
    assert '<html lang="zh-hans"' in html_part.get_payload(decode=True).decode()


@pytest.mark.django_db
def test_a_digest_cut_for_size_says_so_at_the_top_and_keeps_every_interest(settings):
    settings.OPENAI_API_KEY = ""
    digest = _big_chinese_digest(60)

    rendered = digest_render(digest)

    assert 0 < rendered.shown < 60
    notice = f"本邮件显示 {rendered.shown} / 60 篇，全部 60 篇见网页版"
    assert notice in rendered.html
    assert rendered.html.index(notice) < rendered.html.index("2606.20000")  # above the papers
    assert "2606.20000v1" in rendered.html  # the only author paper, kept
    assert "为 zh@example.org 精选 60 篇论文" in rendered.html  # header, subject agree
    assert rendered.subject.startswith("arXiv 论文日报 2026-06-18：60 篇 — ")
    assert rendered.text.count("arXiv:2606.") == 60  # the text part holds every paper
