"""The rendered e-mail, compared with a reviewed snapshot (UPDATE_SNAPSHOTS=1 rewrites it)."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from digests.assemble import digest_assemble
from digests.enrich import lexical_enrich
from digests.models import Paper
from digests.render import digest_render
from tests.factories import make_paper, make_subscriber, make_topic

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots"
DAY = dt.date(2026, 6, 18)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_digest_email_matches_its_snapshot(settings, language):
    # given fixed settings, one reader and three papers, one of them hostile
    settings.SECRET_KEY = "snapshot-secret-key-not-used-anywhere-else-0123456789"
    settings.SITE_URL = "https://digest.example.org"
    settings.OPENAI_API_KEY = ""
    topic = make_topic(
        slug="post-training", names={"en": "Post-training", "zh": "后训练"},
        keywords=["preference optimization"],
    )  # fmt: skip
    reader = make_subscriber(
        email="snapshot@example.org", language=language, topics=[topic],
        keywords=["reinforcement learning"], authors=["Heyan Huang"], min_relevance=1,
    )  # fmt: skip
    make_paper(
        arxiv_id="2606.18810",
        title="Self-Conditioned Credit Assignment for Reinforcement Learning",
        abstract="We propose \\textbf{SC-GRPO}. Reinforcement learning with verifiable rewards "
        "improves preference optimization.",
        authors=[{"name": "Heyan Huang", "affiliations": ["Beijing Institute of Technology"]}],
        categories=["cs.LG", "cs.AI"], comment="15 pages", announce_date=DAY,
    )  # fmt: skip
    make_paper(
        arxiv_id="2410.15595", title="A Survey of Direct Preference Optimization",
        abstract="We review preference optimization.", announce_type="replace", version=2,
        categories=["cs.AI"], announce_date=DAY,
    )  # fmt: skip
    make_paper(
        arxiv_id="2606.20001", title="<script>alert(1)</script> & reinforcement learning",
        abstract='<a href="https://evil.example/">click</a> reinforcement learning',
        announce_date=DAY,
    )  # fmt: skip
    lexical_enrich(list(Paper.objects.all()))  # LLM-less readings: extractive summaries, hits
    digest = digest_assemble(subscriber=reader, issue_date=DAY)

    # when it is rendered (signed links carry a timestamp: compared as placeholders)
    rendered = digest_render(digest)
    html = re.sub(r"/([ufdms])/[^/\"]+/", r"/\1/TOKEN/", rendered.html)

    # then it is exactly the reviewed HTML, and hostile text stayed text
    assert "<script>alert(1)</script>" not in rendered.html
    assert 'href="https://evil.example/' not in rendered.html
    assert "\\textbf" not in rendered.html  # LaTeX formatting read as text
    assert "AI summary" not in rendered.html  # LLM-less: the summary is the abstract's own
    snapshot = SNAPSHOTS / f"digest_{language}.html"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(html, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot yet: run with UPDATE_SNAPSHOTS=1 and review {snapshot}"
    assert html == snapshot.read_text(encoding="utf-8"), (
        f"the e-mail changed: review it, then UPDATE_SNAPSHOTS=1 to accept ({snapshot})"
    )
