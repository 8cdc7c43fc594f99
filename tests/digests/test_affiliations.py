"""Affiliations read from the paper's HTML page (arXiv's LaTeXML rendering)."""

from __future__ import annotations

import datetime as dt

import pytest

from devtools.arxiv_fixtures import FakePaper, day_write
from digests.arxiv.affiliations import affiliations_fill, affiliations_parse
from digests.ingest import day_ingest
from digests.models import Paper

DAY = dt.date(2026, 6, 18)

LATEXML_PAGE = """<!DOCTYPE html><html lang="en"><head><title>A paper</title></head><body>
<div class="ltx_page_main"><article class="ltx_document ltx_authors_1line">
<h1 class="ltx_title ltx_title_document">Beyond Reward Engineering</h1>
<div class="ltx_authors">
<span class="ltx_creator ltx_role_author">
<span class="ltx_personname">Xiaoyue Xu<sup class="ltx_sup" id="id1.1.id1">1</sup>
</span><span class="ltx_author_notes">
<span class="ltx_contact ltx_role_affiliation">Tsinghua University &amp; OpenBMB
</span></span></span>
<span class="ltx_author_before"></span><span class="ltx_creator ltx_role_author">
<span class="ltx_personname">Sikui   Zhang<br class="ltx_break"/>sikui@example.org
</span><span class="ltx_author_notes">
<span class="ltx_contact ltx_role_affiliation">Peking University</span>
<span class="ltx_contact ltx_role_email">sikui@example.org</span></span></span>
<span class="ltx_creator ltx_role_author"><span class="ltx_personname">Chaojun Xiao</span></span>
</div>
<div class="ltx_abstract"><p class="ltx_p">Long-context reasoning at Ignored University.</p></div>
</article></div></body></html>"""


def test_the_page_gives_each_marked_author_their_affiliations():
    assert affiliations_parse(LATEXML_PAGE) == {
        "Xiaoyue Xu": ["Tsinghua University & OpenBMB"],
        "Sikui Zhang": ["Peking University"],
    }


def test_a_page_without_marked_affiliations_gives_none():
    page = "<html><body><p>Xiaoyue Xu, Tsinghua University</p></body></html>"
    assert affiliations_parse(page) == {}


@pytest.fixture
def day_without_affiliations(serve_arxiv, tmp_path):
    folder = day_write(
        tmp_path,
        DAY,
        [
            FakePaper(
                "2606.18831",
                "Beyond Reward Engineering",
                authors=[("Xiaoyue Xu", []), ("Sikui Zhang", []), ("Chaojun Xiao", [])],
            ),
            FakePaper("2606.18832", "No HTML rendering", authors=[("Ada Lovelace", [])]),
        ],
    )
    (folder / "html").mkdir()
    (folder / "html" / "2606.18831v1.html").write_text(LATEXML_PAGE)
    server = serve_arxiv(folder)
    day_ingest(categories=["cs.CL"], date=DAY)
    return server


@pytest.mark.django_db
def test_fill_reads_each_page_once_and_never_guesses(day_without_affiliations):
    server = day_without_affiliations

    filled = affiliations_fill(Paper.objects.order_by("arxiv_id"))
    again = affiliations_fill(Paper.objects.order_by("arxiv_id"))

    paper = Paper.objects.get(arxiv_id="2606.18831")
    assert paper.authors == [
        {"name": "Xiaoyue Xu", "affiliations": ["Tsinghua University & OpenBMB"]},
        {"name": "Sikui Zhang", "affiliations": ["Peking University"]},
        {"name": "Chaojun Xiao", "affiliations": []},
    ]
    without = Paper.objects.get(arxiv_id="2606.18832")
    assert without.affiliations == []
    assert without.affiliations_checked_at is not None
    assert (filled, again) == (2, 0)  # pages read: each version's once
    html_requests = [p for p in server.recorded.requests if p.startswith("/html/")]
    assert html_requests == ["/html/2606.18831v1", "/html/2606.18832v1"]


@pytest.mark.django_db
def test_a_failing_page_is_tried_again_next_time(day_without_affiliations):
    server = day_without_affiliations
    server.recorded.fail_after("/html/", ok=0, status=503)

    affiliations_fill(Paper.objects.filter(arxiv_id="2606.18831"))
    assert Paper.objects.get(arxiv_id="2606.18831").affiliations_checked_at is None

    server.recorded.outages.clear()
    assert affiliations_fill(Paper.objects.filter(arxiv_id="2606.18831")) == 1
