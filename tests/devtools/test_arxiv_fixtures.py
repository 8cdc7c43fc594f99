"""Days written with `day_write`, served by the replay server: where each paper's affiliations
are published (the API's answer or the paper's HTML page) is what a client finds over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from defusedxml import ElementTree

from devtools.arxiv_fixtures import FakePaper, day_write
from devtools.arxiv_replay import ReplayServer, replay_server_start
from digests.arxiv.affiliations import affiliations_parse

DAY = dt.date(2026, 6, 18)
ATOM = {"atom": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}
ON_PAGE = FakePaper(
    "2606.20001",
    'Scaling <b>"laws"</b> & friends',
    version=2,
    announce_type="replace",
    authors=[
        ("Björn Nair", ["Department of Physics, Göttingen University", "R&D <Lab>"]),
        ("D. Zhu", ["R&D <Lab>"]),
        ("Ning Souza", []),
    ],
    affiliations_in="html",
)
IN_API = FakePaper(
    "2606.20002",
    "A paper whose entry names the institutions",
    authors=[("Ada Lovelace", ["University of London"]), ("Alan Turing", ["Bletchley Park"])],
)
ALONE = FakePaper("2606.20003", "One author", authors=[("Emmy Noether", ["Erlangen"])])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ReplayServer]:
    folder = day_write(tmp_path, DAY, [ON_PAGE, IN_API, replace(ALONE, affiliations_in="html")])
    server = replay_server_start(folder)
    yield server
    server.shutdown()
    server.server_close()


def api_authors(server: ReplayServer, *ids: str) -> dict[str, list[tuple[str, list[str]]]]:
    """Each entry's authors with the affiliations the API's answer gives them."""
    response = requests.get(server.api_url, params={"id_list": ",".join(ids)}, timeout=5)
    response.raise_for_status()
    found = {}
    for entry in ElementTree.fromstring(response.content).findall("atom:entry", ATOM):
        arxiv_id = entry.findtext("atom:id", "", ATOM).rsplit("/", 1)[-1]
        found[arxiv_id] = [
            (
                author.findtext("atom:name", "", ATOM),
                [a.text or "" for a in author.findall("arxiv:affiliation", ATOM)],
            )
            for author in entry.findall("atom:author", ATOM)
        ]
    return found


def test_a_paper_publishing_on_its_page_has_none_in_the_api_and_all_on_the_page(served):
    found = api_authors(served, ON_PAGE.arxiv_id, IN_API.arxiv_id)

    assert found["2606.20001v2"] == [("Björn Nair", []), ("D. Zhu", []), ("Ning Souza", [])]
    assert found["2606.20002v1"] == IN_API.authors  # an "api" paper keeps them in its entry

    page = requests.get(f"{served.html_url}2606.20001v2", timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert affiliations_parse(page.text) == {
        "Björn Nair": ["Department of Physics, Göttingen University", "R&D <Lab>"],
        "D. Zhu": ["R&D <Lab>"],
    }
    # a whole page, its text escaped: the title reads back as written
    assert "<title>Scaling &lt;b&gt;&quot;laws&quot;&lt;/b&gt; &amp; friends</title>" in page.text
    assert page.text.rstrip().endswith("</html>")


def test_only_the_papers_publishing_on_their_page_have_one(served):
    assert requests.get(f"{served.html_url}2606.20002v1", timeout=5).status_code == 404
    assert requests.get(f"{served.html_url}2606.20001v1", timeout=5).status_code == 404  # v2's
    single = requests.get(f"{served.html_url}2606.20003v1", timeout=5)
    assert affiliations_parse(single.text) == {"Emmy Noether": ["Erlangen"]}
    assert "ltx_sup" not in single.text  # one affiliation in all: nothing to number


def test_a_day_of_api_papers_writes_no_pages(tmp_path):
    folder = day_write(tmp_path, DAY, [IN_API])
    assert not (folder / "html").exists()


def test_an_unknown_place_is_refused(tmp_path):
    with pytest.raises(ValueError, match="affiliations_in"):
        day_write(tmp_path, DAY, [replace(IN_API, affiliations_in="pdf")])  # type: ignore[arg-type]
