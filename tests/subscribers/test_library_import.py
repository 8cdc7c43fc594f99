"""Importing a reader's library: real exports (BibTeX, RIS, CSL-JSON), bad files, the DOI
lookup on arXiv over real HTTP, and the digest the library shapes (recommending none of it)."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from digests.assemble import digest_assemble
from digests.ingest import day_ingest
from digests.models import Paper
from digests.scoring.inputs import profile_rows
from subscribers.library import (
    LibraryEntry,
    LibraryFileError,
    library_file_read,
    library_import,
    library_seeds,
)
from subscribers.models import Subscriber
from tests.conftest import DEMO_DAY
from tests.factories import make_subscriber
from tests.subscribers.library_stand_ins import arxiv_search_start

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "libraries"
BIB = FIXTURES / "piche_zotero_biblatex_excerpt.bib"
RIS = FIXTURES / "patin_zotero_excerpt.ris"
DAY = dt.date(2026, 6, 18)
_ENTRY = re.compile(r"<id>http://arxiv\.org/abs/([^<]+?)v\d+</id>.*?<title>(.*?)</title>", re.S)


def _csl(shared_recordings: Path) -> Path:
    return (
        shared_recordings.parent
        / "sources-recorded"
        / "library"
        / ("chung_zotero_better-csl-json_My_Library.json")
    )


def test_a_real_biblatex_export_yields_its_arxiv_papers_once_each() -> None:
    read = library_file_read(BIB.read_bytes())
    assert read.format == "bibtex"
    assert [e.line for e in read.entries] == [1, 18, 36, 55, 68, 87, 105]
    assert {e.arxiv_id for e in read.entries} == {
        "2005.07513", "2211.11602", "2211.05826", "2211.15657"
    }  # fmt: skip
    # Braces of Better BibLaTeX's title casing are gone.
    assert read.entries[0].title == "A Distributional View on Multi-Objective Policy Optimization"


@pytest.mark.django_db
def test_duplicates_are_kept_once_and_reported_with_their_line() -> None:
    reader = make_subscriber()
    report = library_import(subscriber=reader, read=library_file_read(BIB.read_bytes()))
    assert (report.entries, report.arxiv, report.text) == (7, 4, 0)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (18, "duplicate of the entry on line 1"),
        (55, "duplicate of the entry on line 36"),
        (105, "duplicate of the entry on line 87"),
    ]
    again = library_import(subscriber=reader, read=library_file_read(BIB.read_bytes()))
    assert (again.arxiv, again.already) == (0, 4)  # safe to run twice
    assert LibraryEntry.objects.filter(subscriber=reader).count() == 4


@pytest.mark.django_db
def test_a_real_zotero_csl_json_export_finds_its_38_arxiv_entries(shared_recordings) -> None:
    read = library_file_read(_csl(shared_recordings).read_bytes())
    report = library_import(subscriber=make_subscriber(), read=read)
    assert read.format == "csl-json"
    assert report.entries == 134
    assert sum(1 for e in read.entries if e.arxiv_id) == 38
    assert report.arxiv == 37  # one arXiv paper is in the export twice
    assert report.arxiv + report.lookup + report.text + len(report.rejected) == 134
    assert "1701.08140" in {e.arxiv_id for e in read.entries}  # "arXiv:1701.08140 [stat]"


def test_a_real_ris_export_keeps_dois_for_lookup_and_dates_of_adding() -> None:
    read = library_file_read(RIS.read_bytes())
    assert read.format == "ris"
    assert [(e.line, e.doi) for e in read.entries] == [
        (1, "10.1371/journal.pcbi.1003531"), (31, ""), (50, "10.7554/elife.46923")
    ]  # fmt: skip
    assert read.entries[0].added_at == dt.datetime(2023, 9, 12, 0, 16, 4, tzinfo=dt.UTC)


def test_latex_accents_and_a_broken_entry_cost_only_that_entry() -> None:
    text = (
        "@article{a, title={Schr{\\\"o}dinger {\\'E}quations for \\emph{all} 50\\%},"
        " url={https://arxiv.org/pdf/2101.00001v2.pdf}}\n"
        "@article{b, title={never closed\n"
        "@misc{c, title = {Third}, doi = {10.48550/arXiv.2102.00002}}\n"
    )
    read = library_file_read(text.encode())
    assert [(e.line, e.arxiv_id, e.title) for e in read.entries] == [
        (1, "2101.00001", "Schrödinger Équations for all 50%"),
        (3, "2102.00002", "Third"),
    ]
    assert [r.line for r in read.rejected] == [2]


def test_a_plain_list_of_ids_urls_and_dois() -> None:
    text = b"2606.13795\nhttps://arxiv.org/abs/hep-th/9901001v3\n# a comment\nnot an id\n"
    read = library_file_read(text)
    assert [e.arxiv_id for e in read.entries] == ["2606.13795", "hep-th/9901001"]
    assert [(r.line, r.reason) for r in read.rejected] == [(4, "not an arXiv id, arXiv URL or DOI")]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "The file is empty."),
        (b" \n\n", "The file is empty."),
        (b"x" * (20 * 1024 * 1024), "The file is 20.0 MB; the limit is 16 MB."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a text file"),
        (b"Dear reader, here is my favourite poem.\n", "This file is not BibTeX, RIS, CSL-JSON"),
        (b"[1, 2", "This JSON cannot be read"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(data: bytes, says: str) -> None:
    with pytest.raises(LibraryFileError, match=re.escape(says)):
        library_file_read(data)


@pytest.mark.django_db
def test_five_thousand_entries_import_in_under_a_minute() -> None:
    bib = BIB.read_text()
    months = {
        "2005.07513": "2005",
        "2211.11602": "2211",
        "2211.05826": "2210",
        "2211.15657": "2212",
    }

    def copy(i: int) -> str:  # the file 715 times over, each copy its own papers
        text = re.sub(r"@(\w+)\{(\w+),", rf"@\1{{\g<2>{i},", bib)
        text = re.sub(r"(?m)^(  title = \{)", rf"\g<1>{i} ", text)
        for arxiv_id, month in months.items():
            text = text.replace(arxiv_id, f"{month}.{i:05d}")
        return text

    copies = [copy(i) for i in range(715)]
    data = "".join(copies).encode()
    started = time.monotonic()
    report = library_import(subscriber=make_subscriber(), read=library_file_read(data))
    assert time.monotonic() - started < 60
    assert report.entries == 5005
    assert report.arxiv == 715 * 4
    assert len(report.rejected) == 715 * 3  # each copy's duplicates, with their lines


@pytest.fixture
def demo_day_ingested(recorded_arxiv):
    report = day_ingest(categories=[p.stem for p in (DEMO_DAY / "rss").glob("*.xml")], date=DAY)
    assert report.created
    return recorded_arxiv


@pytest.fixture
def arxiv_search(settings):
    server = arxiv_search_start(DEMO_DAY)
    settings.ARXIV_API_URL = f"{server.base_url}/api/query"
    settings.ARXIV_REQUEST_DELAY = 0
    yield server
    server.shutdown()
    server.server_close()


def _day_paper() -> tuple[str, str]:
    return _ENTRY.search((DEMO_DAY / "api" / "query.xml").read_text()).groups()


@pytest.mark.django_db
def test_a_doi_is_resolved_on_arxiv_by_its_title_over_http(tmp_path, arxiv_search) -> None:
    arxiv_id, title = _day_paper()
    make_subscriber(email="doi@example.org")
    path = tmp_path / "journal.bib"
    path.write_text(
        f"@article{{pub, title = {{{' '.join(title.split())}}}, doi = {{10.1234/JOURNAL.5}}}}\n"
        "@article{other, title = {A paper arXiv never had}, doi = {10.1234/other}}\n"
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("import_library", str(path), email="DOI@example.org", stdout=out, stderr=err)
    assert out.getvalue().strip() == (
        "2 entries: 1 arXiv papers found, 1 kept as text, 0 already in the library, "
        "0 rejected (bibtex)"
    )
    states = dict(LibraryEntry.objects.values_list("doi", "state"))
    assert states == {"10.1234/journal.5": "arxiv", "10.1234/other": "text"}
    assert LibraryEntry.objects.get(doi="10.1234/journal.5").arxiv_id == arxiv_id
    assert any("search_query=" in r and "OR" in r for r in arxiv_search.requests_seen)


@pytest.mark.django_db
def test_the_command_refuses_an_unknown_reader_and_a_bad_file(tmp_path) -> None:
    make_subscriber(email="known@example.org")
    with pytest.raises(CommandError, match="no subscriber with the address nobody@"):
        call_command("import_library", str(BIB), email="nobody@example.org")
    empty = tmp_path / "empty.bib"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match=r"The file is empty\."):
        call_command("import_library", str(empty), email="known@example.org")
    assert not LibraryEntry.objects.exists()


@pytest.mark.django_db
def test_a_real_library_shapes_the_next_digest_and_none_of_it_comes_back(
    tmp_path, demo_day_ingested, arxiv_search
) -> None:
    """The bar: a real researcher's BibTeX file, plus one paper of the day they already hold."""
    reader = make_subscriber(email="piche@example.org", min_relevance=5, max_items=50)
    alone = make_subscriber(email="empty@example.org", min_relevance=5, max_items=50)
    baseline = digest_assemble(subscriber=alone, issue_date=DAY)
    assert baseline.items.count() == 0  # a profile with nothing in it gets nothing

    held_id, _title = _day_paper()
    out, err = io.StringIO(), io.StringIO()
    call_command("import_library", str(BIB), email="piche@example.org", stdout=out, stderr=err)
    assert out.getvalue().startswith("7 entries: 4 arXiv papers found, 0 kept as text")
    assert "line 18: duplicate of the entry on line 1" in err.getvalue()
    listed = tmp_path / "held.txt"
    listed.write_text(f"https://arxiv.org/abs/{held_id}v1\n")
    call_command("import_library", str(listed), email="piche@example.org", stdout=io.StringIO())

    reader = Subscriber.objects.get(pk=reader.pk)
    seeds = library_seeds([reader.pk])[reader.pk]
    assert len(seeds) == 5
    assert seeds[0].weight == 1.0 and all(s.weight < 1.0 for s in seeds[1:])
    row = profile_rows([reader], day=DAY)[0]
    assert any("CRINGE Loss" in text for text in row.seed_texts)  # the file's own text
    assert Paper.objects.filter(arxiv_id=held_id).exists()

    digest = digest_assemble(subscriber=reader, issue_date=DAY)
    shown = list(digest.items.values_list("paper__arxiv_id", flat=True))
    assert shown, "the library gives an empty profile a digest"
    assert held_id not in shown  # a paper of the reader's library is never recommended back
