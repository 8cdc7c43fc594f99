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


def _author(name: str, *notes: str) -> str:
    """One LaTeXML author block: the name's markup as given, then its contacts."""
    contacts = "".join(notes)
    return (
        f'<span class="ltx_creator ltx_role_author"><span class="ltx_personname">{name}</span>'
        f'<span class="ltx_author_notes">{contacts}</span></span>'
    )


def _affiliation(markup: str) -> str:
    return f'<span class="ltx_contact ltx_role_affiliation">{markup}</span>'


def _note(role: str, mark: str, text: str) -> str:
    """A footnote or \\thanks as LaTeXML writes it: the mark, then the hidden note that
    repeats the mark (and, but for a footnote, names its type) before the text."""
    kind = "" if role == "footnote" else f'<span class="ltx_note_type">{role}: </span>'
    return (
        f'<span class="ltx_note ltx_role_{role}"><sup class="ltx_note_mark">{mark}</sup>'
        f'<span class="ltx_note_outer"><span class="ltx_note_content">'
        f'<sup class="ltx_note_mark">{mark}</sup>{kind}{text}</span></span></span>'
    )


def _page(*authors: str) -> str:
    return f'<div class="ltx_authors">{"".join(authors)}</div>'


def test_a_superscript_mark_in_an_affiliation_is_dropped():
    page = _page(
        _author("Ada Lovelace", _affiliation('<sup class="ltx_sup">1</sup>University of London'))
    )
    assert affiliations_parse(page) == {"Ada Lovelace": ["University of London"]}


def test_a_thanks_note_inside_the_name_is_dropped_whole():
    name = "Ada Lovelace" + _note("thanks", "*", "Equal contribution.")
    page = _page(_author(name, _affiliation("University of London")))
    assert affiliations_parse(page) == {"Ada Lovelace": ["University of London"]}


def test_a_footnote_inside_an_affiliation_is_dropped_and_its_own_text_kept():
    markup = (
        '<span class="ltx_text ltx_font_italic">Analytical</span> Engine Society &amp; Trust'
        + _note("footnote", "2", "Work done while visiting <em>Turin</em>.")
    )
    page = _page(_author("Ada Lovelace", _affiliation(markup)))
    assert affiliations_parse(page) == {"Ada Lovelace": ["Analytical Engine Society & Trust"]}


def test_an_affiliation_that_is_only_a_mark_is_none():
    page = _page(_author("Ada Lovelace", _affiliation('<sup class="ltx_sup">3</sup> ')))
    assert affiliations_parse(page) == {}


# A title page as arXiv's LaTeXML renders it today: numbered affiliations by superscripts in
# the names (\textsuperscript, or maths $^{2}$) and in the affiliations, a \thanks inside a name
# and one beside it, a footnote, e-mail addresses, and the "Affiliation: " labels arXiv hides.
MIXED_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Notes on the Engine</title></head>
<body><div class="ltx_page_main"><div class="ltx_page_content">
<article class="ltx_document ltx_authors_1line">
<h1 class="ltx_title ltx_title_document">Notes on the Engine<span class="ltx_note ltx_role_thanks"
><sup class="ltx_note_mark">1</sup><span class="ltx_note_outer"><span class="ltx_note_content"
><sup class="ltx_note_mark">1</sup><span class="ltx_note_type">thanks: </span>Title note.</span
></span></span></h1>
<div class="ltx_authors">
<span class="ltx_creator ltx_role_author">
<span class="ltx_personname">Ada Lovelace<sup class="ltx_sup" id="id1.1.id1">1,2</sup><span
class="ltx_note ltx_role_thanks" id="id2"><sup class="ltx_note_mark">∗</sup><span
class="ltx_note_outer"><span class="ltx_note_content"><sup class="ltx_note_mark">∗</sup><span
class="ltx_note_type">thanks: </span>Equal contribution.</span></span></span>
</span><span class="ltx_author_notes"><span class="ltx_author_notes_content">
<span class="ltx_contact ltx_role_affiliation"><span class="ltx_contact_name">Affiliation: </span
><sup class="ltx_sup" id="id3.2.id1">1</sup>University of London
</span>
<span class="ltx_contact ltx_role_affiliation"><span class="ltx_contact_name">Affiliation: </span
><sup class="ltx_sup" id="id4.3.id1">2</sup><span class="ltx_text ltx_font_italic"
>Analytical</span> Engine Society &amp; Trust
</span>
<span class="ltx_contact ltx_role_email"><span class="ltx_contact_name">Email: </span><a
href="mailto:ada@example.org">ada@example.org</a>
</span></span></span></span>
<span class="ltx_author_before">  </span><span class="ltx_creator ltx_role_author">
<span class="ltx_personname">Charles Babbage<math alttext="{}^{2}" class="ltx_Math"
display="inline" id="id5.m1"><semantics><msup><mi></mi><mn>2</mn></msup><annotation
encoding="application/x-tex">{}^{2}</annotation></semantics></math><span
class="ltx_note ltx_role_footnote" id="footnote1"><sup class="ltx_note_mark">2</sup><span
class="ltx_note_outer"><span class="ltx_note_content"><sup class="ltx_note_mark">2</sup><span
class="ltx_tag ltx_tag_note">2</span>Corresponding author.</span></span></span><br
class="ltx_break"/>babbage@example.org
</span><span class="ltx_author_notes"><span class="ltx_author_notes_content">
<span class="ltx_contact ltx_role_affiliation"><span class="ltx_contact_name">Affiliation: </span
><sup class="ltx_sup">2</sup><span class="ltx_text ltx_font_italic">Analytical</span> Engine
Society &amp; Trust
</span></span></span></span>
<span class="ltx_author_before">  </span><span class="ltx_creator ltx_role_author">
<span class="ltx_personname">Mary Somerville
</span><span class="ltx_note ltx_note_frontmatter ltx_thanks_note ltx_role_thanks" id="id6"
><sup class="ltx_note_mark">†</sup><span class="ltx_note_outer"><span class="ltx_note_content"
><sup class="ltx_note_mark">†</sup><span class="ltx_note_type">thanks: </span>Now at the Royal
Institution.</span></span></span><span class="ltx_author_notes"><span
class="ltx_author_notes_content">
<span class="ltx_contact ltx_role_affiliation"><span class="ltx_contact_name">Affiliation: </span
> <sup class="ltx_sup">1</sup>University of London
</span></span></span></span>
<span class="ltx_author_before">  </span><span class="ltx_creator ltx_role_author">
<span class="ltx_personname">Augustus De Morgan<sup class="ltx_sup">3</sup>
</span></span>
</div>
<div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>
<p class="ltx_p">Work at the University of Cambridge<sup class="ltx_sup">3</sup>.</p></div>
</article></div></div></body></html>"""

MIXED_AFFILIATIONS = {
    "Ada Lovelace": ["University of London", "Analytical Engine Society & Trust"],
    "Charles Babbage": ["Analytical Engine Society & Trust"],
    "Mary Somerville": ["University of London"],
}


def test_a_realistic_page_gives_exact_names_and_affiliations():
    assert affiliations_parse(MIXED_PAGE) == MIXED_AFFILIATIONS


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
def test_marks_and_notes_no_longer_cost_an_author_their_affiliations(serve_arxiv, tmp_path):
    names = ["Ada Lovelace", "Charles Babbage", "Mary Somerville", "Augustus De Morgan"]
    folder = day_write(
        tmp_path,
        DAY,
        [FakePaper("2606.18833", "Notes on the Engine", authors=[(n, []) for n in names])],
    )
    (folder / "html").mkdir()
    (folder / "html" / "2606.18833v1.html").write_text(MIXED_PAGE)
    serve_arxiv(folder)
    day_ingest(categories=["cs.CL"], date=DAY)

    assert affiliations_fill(Paper.objects.filter(arxiv_id="2606.18833")) == 1

    assert Paper.objects.get(arxiv_id="2606.18833").authors == [
        {"name": name, "affiliations": MIXED_AFFILIATIONS.get(name, [])} for name in names
    ]


@pytest.mark.django_db
def test_a_failing_page_is_tried_again_next_time(day_without_affiliations):
    server = day_without_affiliations
    server.recorded.fail_after("/html/", ok=0, status=503)

    affiliations_fill(Paper.objects.filter(arxiv_id="2606.18831"))
    assert Paper.objects.get(arxiv_id="2606.18831").affiliations_checked_at is None

    server.recorded.outages.clear()
    assert affiliations_fill(Paper.objects.filter(arxiv_id="2606.18831")) == 1
