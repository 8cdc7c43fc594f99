"""The Simplified Chinese catalogue: labels, reasons and the e-mail templates, no database."""

from __future__ import annotations

import ast
import datetime as dt
import gettext as gnu_gettext
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from digests.render import digest_mjml
from newsletter.i18n import language_for_translation

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"

LABELS = {
    "Topic hit": "专题命中",
    "AI summary": "AI总结",
    "Today's brief": "今日简报",
    "Comments:": "备注：",
    "No paper reached your minimum relevance today.": "今天没有论文达到您设定的最低相关度。",
}


@pytest.mark.parametrize(("english", "chinese"), LABELS.items())
def test_labels_translate_in_simplified_chinese(english, chinese):
    with translation.override("zh-hans"):
        assert _(english) == chinese
    with translation.override("en"):
        assert _(english) == english


def test_reasons_translate_with_their_placeholders():
    with translation.override("zh-hans"):
        assert (
            ngettext("author you follow: %(names)s", "authors you follow: %(names)s", 1)
            % {"names": "Yann LeCun"}
            == "关注的作者：Yann LeCun"
        )
        assert (
            ngettext("keyword: %(keywords)s", "keywords: %(keywords)s", 2)
            % {"keywords": "DPO, RLHF"}
            == "关键词：DPO, RLHF"
        )
        assert _("close to your seed paper «%(title)s»") % {"title": "DPO"} == (
            "与您的种子论文《DPO》相近"
        )
        assert _("topic hit: %(topic)s") % {"topic": "后训练"} == "专题命中：后训练"
    with translation.override("en"):
        assert _("topic hit: %(topic)s") % {"topic": "Post-training"} == "topic hit: Post-training"


def test_announce_types_have_chinese_labels_ready():
    # the AnnounceType labels are not marked in the model yet; the catalogue already holds them
    with translation.override("zh-hans"):
        assert [_(label) for label in ("new", "cross-list", "replacement")] == [
            "新提交",
            "交叉投稿",
            "版本更新",
        ]


@pytest.mark.parametrize("code", ["zh", "zh-hans", "zh-cn", "zh-CN", "zh_Hans", "zh-Hans-CN"])
def test_chinese_reader_codes_reach_the_zh_hans_catalogue(code):
    assert language_for_translation(code) == "zh-hans"
    with translation.override(language_for_translation(code)):
        assert _("Today's brief") == "今日简报"


@pytest.mark.parametrize(
    ("code", "expected"), [("en", "en"), ("en-US", "en"), ("fr", "en"), ("", "en")]
)
def test_other_reader_codes_fall_back_to_english(code, expected):
    assert language_for_translation(code) == expected


def _context(*, items):
    shown = SimpleNamespace(  # a digests.shown.ShownPaper's fields
        title="A Survey of Direct Preference Optimization",
        versioned_id="2410.15595v3",
        primary_category="cs.CL",
        categories=["cs.CL", "cs.AI"],
        summary_is_ai=True,
        announce_type_label="cross-list",
        authors=["Shunyu Liu", "Wentao Jiang"],
        comment="12 pages",
        journal_ref="",
        abstract="We survey DPO.",
        abs_url="https://arxiv.org/abs/2410.15595",
        pdf_url="https://arxiv.org/pdf/2410.15595",
        html_url="https://arxiv.org/html/2410.15595",
        doi="",
        announce_date=dt.date(2026, 6, 18),
        relevance=87,
        translated_title="直接偏好优化综述",
        translated_abstract="",
        summary="系统梳理了 DPO 及其变体。",
        affiliations=["Zhejiang University(浙江大学)"],
        topic_name="后训练",
        topic_reason="偏好优化方法",
    )
    view = SimpleNamespace(  # a digests.render.ItemView's fields
        item=SimpleNamespace(rank=1, relevance=87, reason="专题命中：后训练"),
        shown=shown,
        reasons=("专题命中：后训练 — 偏好优化方法",),
        paper_url="https://digest.example.org/papers/2410.15595/?lang=zh-hans",
    )
    return {
        "digest": SimpleNamespace(
            issue_date=dt.date(2026, 6, 18),
            subscriber=SimpleNamespace(email="reader@example.org", language="zh"),
        ),
        "items": [view] * items,
        "more": 0,
        "brief": "今天有 1 篇论文符合您的关注方向。",
        "site_url": "https://digest.example.org",
        "translation_off": False,
    }


def test_text_email_shows_chinese_labels():
    with translation.override("zh-hans"):
        text = render_to_string("email/digest.txt", _context(items=1))
    assert "1 篇论文" in text
    assert "今日简报\n" in text
    assert "推荐理由： 专题命中：后训练 — 偏好优化方法" in text
    assert "AI总结： 系统梳理了 DPO 及其变体。" in text
    assert "备注： 12 pages" in text
    assert "您在 https://digest.example.org/ 订阅了 arXiv Digest" in text
    assert "Why" not in text and "AI summary" not in text


def test_text_email_stays_english_for_english_readers():
    with translation.override("en"):
        text = render_to_string("email/digest.txt", _context(items=2))
    assert "· 2 papers\n" in text
    assert "Today's brief\n" in text
    assert "    Why: 专题命中：后训练 — 偏好优化方法" in text
    assert "    AI summary: 系统梳理了 DPO 及其变体。" in text
    assert "    Comments: 12 pages" in text
    assert "You receive this because you subscribed at https://digest.example.org/" in text


def test_empty_text_email_in_chinese():
    with translation.override("zh-hans"):
        text = render_to_string("email/digest.txt", _context(items=0))
    assert "0 篇论文" in text
    assert "今天没有论文达到您设定的最低相关度。" in text


def test_mjml_email_shows_chinese_labels():
    with translation.override("zh-hans"):
        mjml = digest_mjml(_context(items=1))
    assert "<mj-title>arXiv 论文日报 2026-06-18</mj-title>" in mjml
    assert "星期四, 2026-06-18 · 为 reader@example.org 精选 1 篇论文" in mjml
    for label in (
        "今日简报",
        "<strong>推荐理由：</strong>",
        "<strong>AI总结</strong>",
        "<strong>备注：</strong>",
    ):
        assert label in mjml
    assert '您在 <a href="https://digest.example.org/" style="color:#4b5563">' in mjml


def _po_entries(path: Path) -> dict[str, str]:
    """msgid → msgstr (first plural form) of the live entries of a .po file."""
    entries = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?)\s+(".*")$', line)
            if match:
                key = match.group(1)
                fields[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                fields[key] += ast.literal_eval(line)
        if fields.get("msgid"):
            entries[fields["msgid"]] = fields.get("msgstr", fields.get("msgstr[0]", ""))
    return entries


def test_the_shipped_mo_matches_the_po():
    # the .mo is committed so a machine without gettext translates: it must not go stale
    entries = _po_entries(LOCALE / "django.po")
    with (LOCALE / "django.mo").open("rb") as handle:
        compiled = gnu_gettext.GNUTranslations(handle)
    assert entries and all(entries.values()), "every message has a translation"
    for msgid, msgstr in entries.items():
        assert compiled.gettext(msgid) == msgstr, f"stale .mo for {msgid!r}: run compilemessages"
