"""Two announcement days as arXiv really serves them, through the whole pipeline.

The API records carry no affiliation (the usual case); the papers' HTML pages do. A reader gave
a seed paper we do not hold. Day 2 announces v2 of a paper a reader got on day 1. Run with the
LLM (the local stub, over real HTTP) and without it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from devtools.arxiv_fixtures import FakePaper, day_write
from digests.daily import daily_run
from digests.models import Digest, Paper, PaperVersion, VersionChange
from digests.models.paper import announced_between
from digests.render import digest_render
from digests.versions import changes_enrich
from tests.conftest import ARTIFACTS
from tests.factories import make_subscriber

DAY1, DAY2 = dt.date(2026, 7, 1), dt.date(2026, 7, 2)
RL = "Reinforcement learning with verifiable rewards for language model post-training."


def _page(authors: list[tuple[str, str]]) -> str:
    """An arXiv HTML page (LaTeXML) marking each author's affiliation."""
    blocks = "".join(
        f'<span class="ltx_creator ltx_role_author"><span class="ltx_personname">{name}'
        f'<sup class="ltx_sup">1</sup></span><span class="ltx_author_notes">'
        f'<span class="ltx_contact ltx_role_affiliation">{affiliation}</span></span></span>'
        for name, affiliation in authors
    )
    return (
        '<!DOCTYPE html><html lang="en"><body><article class="ltx_document">'
        f'<div class="ltx_authors">{blocks}</div></article></body></html>'
    )


AUTHOR_PAPER = FakePaper(
    "2607.00101",
    "Sparse attention for long documents",
    abstract="We study sparse attention patterns for long documents. " * 3,
    authors=[("Yongjin Yang", []), ("Mina Park", [])],
)
RL_PAPER = FakePaper(
    "2607.00102",
    "Verifiable rewards for language models",
    abstract=RL + " We report results on math and code benchmarks.",
    authors=[("Wei Chen", []), ("Li Na", [])],
)
INSTITUTION_PAPER = FakePaper(
    "2607.00103",
    "A study of tokenizer drift",
    abstract="We measure how tokenizers drift across model releases. " * 3,
    authors=[("Zhang San", [])],
)
SEED = FakePaper(
    "2601.00900",
    "Our seed paper on dialogue safety",
    abstract="We evaluate dialogue agents for harmful outputs under adversarial users.",
)


def _days(root: Path) -> tuple[Path, Path]:
    one = day_write(root, DAY1, [AUTHOR_PAPER, RL_PAPER, INSTITUTION_PAPER])
    (one / "html").mkdir()
    pages = {
        "2607.00101v1": [("Yongjin Yang", "KAIST"), ("Mina Park", "Seoul National University")],
        "2607.00102v1": [("Wei Chen", "Peking University"), ("Li Na", "Peking University")],
        "2607.00103v1": [("Zhang San", "Tsinghua University")],
    }
    for versioned, authors in pages.items():
        (one / "html" / f"{versioned}.html").write_text(_page(authors))
    # The seed is known to the API, never announced: its record served beside the day's.
    seed_day = day_write(root / "seed", DAY1, [SEED])
    shutil.copy(seed_day / "api" / "query.xml", one / "api" / "seed.xml")
    v2 = FakePaper(
        RL_PAPER.arxiv_id, RL_PAPER.title, abstract=RL_PAPER.abstract, version=2,
        announce_type="replace", authors=RL_PAPER.authors, comment="Accepted at ICML 2026",
    )  # fmt: skip
    new = FakePaper("2607.00201", "Another paper on parsing", authors=[("Ada Lovelace", [])])
    two = day_write(root, DAY2, [v2, new])  # no HTML page for v2: v1's affiliations stand
    return one, two


@pytest.fixture
def readers(catalogue):
    english = make_subscriber(
        email="en@example.org", language="en", authors=["Yongjin Yang"],
        keywords=["reinforcement learning"], seed_papers=[SEED.arxiv_id],
        categories=["cs.CL"], min_relevance=1,
    )  # fmt: skip
    chinese = make_subscriber(
        email="zh@example.org", language="zh", institutions=["Tsinghua University"],
        categories=["cs.CL"], min_relevance=1,
    )  # fmt: skip
    return english, chinese


def _run(serve_arxiv, folder: Path, day: dt.date) -> None:
    server = serve_arxiv(folder)
    daily_run(date=day)
    server.shutdown()


@pytest.mark.django_db
def test_llm_mode_author_first_affiliation_translated_then_updated(
    tmp_path, serve_arxiv, llm_stub, outbox_dir, readers
):
    english, chinese = readers
    one, two = _days(tmp_path)

    # day 1
    _run(serve_arxiv, one, DAY1)
    digest = Digest.objects.get(subscriber=english, issue_date=DAY1)
    first = digest.items.order_by("rank").first()
    assert first.paper.arxiv_id == AUTHOR_PAPER.arxiv_id
    mail = digest_render(digest)
    assert "author you follow: Yongjin Yang" in mail.text
    assert "KAIST" in mail.text  # from the paper's HTML page, not the API
    assert "[English]" in mail.text  # the LLM's reading: its summary
    # arXiv's title is English already: no English "translation" of it beside it
    assert "[English] Sparse attention for long documents" not in mail.text
    assert Paper.objects.get(arxiv_id=SEED.arxiv_id).announce_date is None  # fetched as a seed
    assert SEED.arxiv_id not in {i.paper.arxiv_id for i in digest.items.all()}
    # a followed institution found only on the page brings its paper in, translated
    zh = digest_render(Digest.objects.get(subscriber=chinese, issue_date=DAY1))
    assert "Tsinghua University([简体中文] Tsinghua University)" in zh.text
    assert "[简体中文] A study of tokenizer drift" in zh.text

    # day 2: v2 of a paper the English reader got, with no HTML page of its own
    _run(serve_arxiv, two, DAY2)
    paper = Paper.objects.get(arxiv_id=RL_PAPER.arxiv_id)
    assert paper.version == 2 and paper.first_announced == DAY1
    assert paper.affiliations == ["Peking University"]  # v1's page still stands
    assert list(
        PaperVersion.objects.filter(paper=paper).values_list("version", "announce_date")
    ) == [(1, DAY1), (2, DAY2)]
    digest = Digest.objects.get(subscriber=english, issue_date=DAY2)
    assert RL_PAPER.arxiv_id not in {i.paper.arxiv_id for i in digest.items.all()}
    mail = digest_render(digest)
    updated = mail.text.split("Updated papers you got before", 1)[1]
    assert f"updated: you got v1 on {DAY1}" in updated
    assert "v2: [English] the comments now read: Accepted at ICML 2026." in updated
    assert "Updated papers you got before" in mail.html
    asked = VersionChange.objects.filter(paper=paper, old_version=1, new_version=2)
    assert sorted(asked.values_list("language", flat=True)) == ["en", "zh"]  # both readers got v1
    calls = len(llm_stub.requests)
    assert changes_enrich(list(Paper.objects.filter(announce_date=DAY2)), day=DAY2) == 0
    assert len(llm_stub.requests) == calls  # cached per version pair and language
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "email_real_day2_en.html").write_text(mail.html)
    (ARTIFACTS / "email_real_day1_zh.html").write_text(zh.html)


@pytest.mark.django_db
def test_llm_less_the_update_says_the_comment_change(
    tmp_path, serve_arxiv, outbox_dir, readers, settings
):
    settings.OPENAI_API_KEY = ""
    english, _chinese = readers
    one, two = _days(tmp_path)
    _run(serve_arxiv, one, DAY1)
    _run(serve_arxiv, two, DAY2)
    mail = digest_render(Digest.objects.get(subscriber=english, issue_date=DAY2))
    assert "v2: Accepted at ICML 2026" in mail.text
    assert f"updated: you got v1 on {DAY1}" in mail.text


@pytest.mark.django_db
def test_reingesting_the_first_day_moves_nothing_and_keeps_affiliations(
    tmp_path, serve_arxiv, outbox_dir, readers, settings
):
    settings.OPENAI_API_KEY = ""
    one, two = _days(tmp_path)
    _run(serve_arxiv, one, DAY1)
    _run(serve_arxiv, two, DAY2)
    server = serve_arxiv(one)
    from digests.ingest import day_ingest

    day_ingest(categories=["cs.CL"], date=DAY1)  # day 1 read again (its feed lists v1)
    server.shutdown()
    paper = Paper.objects.get(arxiv_id=RL_PAPER.arxiv_id)
    assert (paper.version, paper.announce_date, paper.first_announced) == (2, DAY2, DAY1)
    assert paper.affiliations == ["Peking University"]
    author = Paper.objects.get(arxiv_id=AUTHOR_PAPER.arxiv_id)
    assert author.affiliations == ["KAIST", "Seoul National University"]
    assert author.affiliations_version == 1
    # the first day still holds the paper (topic pages, weekly windows), as does the second
    for day in (DAY1, DAY2):
        assert paper in Paper.objects.filter(announced_between(day, day))
