"""The digest e-mail in headless Chromium, light and dark, at 600 and 375 px: every text is
readable (WCAG AA contrast against what is really behind it), nothing overflows the phone's
width. Screenshots land in test-artifacts/ (looked at by a person, not only by the asserts)."""

from __future__ import annotations

import datetime as dt

import pytest

from digests.assemble import digest_assemble
from digests.enrich import lexical_enrich
from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Paper
from digests.render import digest_render
from tests.conftest import ARTIFACTS
from tests.factories import make_enrichment, make_paper, make_subscriber, make_topic

DAY = dt.date(2026, 6, 18)

# For each element holding text of its own: its colour, the first opaque background behind
# it, and the contrast ratio between them (WCAG 2.x relative luminance).
CONTRASTS_JS = """
() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const behind = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
    }
    const root = rgb(getComputedStyle(document.documentElement).backgroundColor);
    return root.length >= 3 && (root.length < 4 || root[3] > 0.5) ? root
      : (matchMedia('(prefers-color-scheme: dark)').matches ? [18, 18, 18] : [255, 255, 255]);
  };
  const found = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(behind(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    found.push({text: el.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100});
  }
  return found;
}
"""


def _digest(language: str):
    topic = make_topic(slug="post-training", names={"en": "Post-training", "zh": "后训练"},
                       keywords=["preference optimization"])  # fmt: skip
    reader = make_subscriber(
        email=f"{language}@example.org", language=language, topics=[topic],
        keywords=["reinforcement learning"], authors=["Heyan Huang"], min_relevance=1,
        interests="reward models for language model alignment",
    )  # fmt: skip
    for n in range(6):
        paper = make_paper(
            arxiv_id=f"2606.188{n:02d}",
            title=f"\\textbf{{Paper {n}}}: reinforcement learning for preference optimization",
            abstract="We propose a method. Reinforcement learning with verifiable rewards "
            "improves preference optimization. " * 4,
            authors=[{"name": "Heyan Huang" if n == 0 else f"Author {n}",
                      "affiliations": ["Beijing Institute of Technology"]}],
            categories=["cs.LG", "cs.AI", "cs.CL"], comment="Accepted at ICML 2026",
        )  # fmt: skip
        if language == "zh":
            make_enrichment(
                paper=paper, language="zh", status="ok", prompt_version=ENRICH_PROMPT_VERSION,
                title=f"论文 {n}：偏好优化的强化学习",
                abstract="我们提出一种方法。可验证奖励的强化学习提升了偏好优化。" * 4,
                summary="提出一种用于偏好优化的强化学习方法。",
                topic_hits=[{"topic": "post-training", "score": 90, "reason": "偏好优化"}],
            )  # fmt: skip
    lexical_enrich(list(Paper.objects.all()))
    return digest_assemble(subscriber=reader, issue_date=DAY)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_email_reads_in_light_and_dark_at_desktop_and_phone_width(page, settings, language):
    # given a rendered digest (Chinese with the LLM's readings, English LLM-less)
    settings.OPENAI_API_KEY = "key" if language == "zh" else ""
    html = digest_render(_digest(language)).html
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        for width in (600, 375):
            # when Chromium shows it in that colour scheme and width
            page.set_viewport_size({"width": width, "height": 900})
            page.emulate_media(color_scheme=scheme)
            page.set_content(html)
            if language == "zh":  # the LLM's reading shown, its why after the topic hit
                assert "专题命中：后训练 — 偏好优化" in page.inner_text("body")
            page.screenshot(
                path=str(ARTIFACTS / f"email_{language}_{scheme}_{width}.png"), full_page=True
            )
            # then every text has AA contrast with what is behind it, and nothing overflows
            contrasts = page.evaluate(CONTRASTS_JS)
            assert len(contrasts) > 30
            poor = [c for c in contrasts if c["ratio"] < 4.5]
            assert not poor, (scheme, width, poor)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert page.evaluate("document.documentElement.lang") == (
                "zh-hans" if language == "zh" else "en"
            )
