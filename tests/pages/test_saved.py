"""Save for later: from the e-mail (a page whose button saves), from the web pages, the reading
list, its BibTeX and RIS exports, and saving counting as "more like this"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import rispy
from django.test import Client
from pybtex.database import parse_string

from digests.models import Feedback, SavedPaper
from digests.render import digest_render
from pages.saved import bibtex_export, paper_save, ris_export
from pages.search import profile_relevance
from subscribers.models import Subscriber
from subscribers.tokens import feedback_token, signin_token
from tests.factories import make_digest, make_digest_item, make_paper, make_subscriber

HOSTILE = "}, author = {Mallory} @misc{x, <script>alert(1)</script> 100% of $x_1$ & #2"


def _signed_in(client: Client, subscriber: Subscriber) -> Client:
    client.post(f"/signin/{signin_token(subscriber_id=subscriber.pk, email=subscriber.email)}/")
    return client


def _save_link(reader: Subscriber, paper_id: int, signal: str = "save") -> str:
    return f"/s/{feedback_token(subscriber_id=reader.pk, paper_id=paper_id, signal=signal)}/"


@pytest.mark.django_db
def test_the_email_carries_a_save_link_per_paper_that_saves_only_on_post(client):
    # given a rendered digest of two papers
    reader = make_subscriber()
    digest = make_digest(subscriber=reader)
    items = [make_digest_item(digest=digest) for _ in range(2)]
    rendered = digest_render(digest)
    links = re.findall(r'href="http://[^"]+(/s/[^/"]+/)"', rendered.html)
    assert len(links) == 2 and all(link in rendered.text for link in links)

    # when the reader (or a mail scanner) opens the first link
    page = client.get(links[0])

    # then a page with one button shows the paper, and nothing is saved yet
    assert page.status_code == 200 and b'id="confirm"' in page.content
    assert page["Cache-Control"].startswith("max-age=0")
    assert not SavedPaper.objects.exists()

    # when the button is pressed
    done = client.post(links[0])

    # then that paper is on the list and counts as "more like this"
    assert b'id="reading-list"' in done.content
    assert list(SavedPaper.objects.values_list("subscriber_id", "paper_id")) == [
        (reader.pk, items[0].paper_id)
    ]
    assert Feedback.objects.get(subscriber=reader).signal == Feedback.Signal.MORE
    client.post(links[0])  # twice: still once
    assert SavedPaper.objects.count() == 1


@pytest.mark.django_db
def test_a_save_link_is_not_a_feedback_link_nor_the_reverse(client):
    reader, paper = make_subscriber(), make_paper()
    assert client.post(_save_link(reader, paper.pk, signal="more")).status_code == 400
    save_token = feedback_token(subscriber_id=reader.pk, paper_id=paper.pk, signal="save")
    assert client.post(f"/f/{save_token}/").status_code == 400
    assert client.post(_save_link(reader, paper.pk)[:-5] + "xxxx/").status_code == 400
    assert client.get(_save_link(reader, paper.pk + 1000)).status_code == 400
    assert not SavedPaper.objects.exists() and not Feedback.objects.exists()


@pytest.mark.django_db
def test_saving_from_the_web_needs_a_session_and_returns_where_the_reader_was(client):
    paper = make_paper()
    assert client.post(f"/papers/{paper.arxiv_id}/save/")["Location"] == "/signin/"
    assert client.get(f"/papers/{paper.arxiv_id}/save/").status_code == 405

    reader = make_subscriber()
    client = _signed_in(client, reader)
    back = client.post(f"/papers/{paper.arxiv_id}/save/", {"next": "/search/?q=x"})
    assert back["Location"] == "/search/?q=x"
    elsewhere = client.post(f"/papers/{paper.arxiv_id}/save/", {"next": "https://evil.example/"})
    assert elsewhere["Location"] == "/saved/"
    assert SavedPaper.objects.filter(subscriber=reader, paper=paper).count() == 1
    assert client.post("/papers/9999.99999/save/").status_code == 404


@pytest.mark.django_db
def test_search_results_offer_save_then_remove(client):
    paper = make_paper(title="Quantum chemistry")
    reader = make_subscriber()
    client = _signed_in(client, reader)
    assert f'action="/papers/{paper.arxiv_id}/save/"' in client.get("/search/?q=quantum").text
    client.post(f"/papers/{paper.arxiv_id}/save/")
    assert f'action="/papers/{paper.arxiv_id}/unsave/"' in client.get("/search/?q=quantum").text


@pytest.mark.django_db
def test_the_reading_list_shows_saved_papers_last_first_and_removes_them(client):
    reader = make_subscriber()
    older, newer = make_paper(title="Older paper"), make_paper(title=HOSTILE)
    paper_save(subscriber=reader, paper=older)
    paper_save(subscriber=reader, paper=newer)
    client = _signed_in(client, reader)

    html = client.get("/saved/").content.decode()
    assert html.index(f"paper-{newer.arxiv_id}") < html.index(f"paper-{older.arxiv_id}")
    assert "<script>alert" not in html and 'id="export-bib"' in html

    client.post(f"/papers/{older.arxiv_id}/unsave/")
    assert list(SavedPaper.objects.values_list("paper_id", flat=True)) == [newer.pk]
    assert "Older paper" not in client.get("/saved/").content.decode()


@pytest.mark.django_db
def test_bibtex_export_is_read_back_by_a_bibtex_parser(client):
    # given two saved papers, one with a journal DOI and a hostile title
    reader = make_subscriber()
    plain = make_paper(
        arxiv_id="2606.18831",
        title="Beyond Reward Engineering",
        authors=[{"name": "Ada Lovelace", "affiliations": []}, {"name": "Xu Han"}],
        categories=["cs.CL", "cs.AI"],
        primary_category="cs.CL",
    )
    hostile = make_paper(arxiv_id="2606.18832", title=HOSTILE, doi="10.1000/j.x.2026.1")
    paper_save(subscriber=reader, paper=plain)
    paper_save(subscriber=reader, paper=hostile)
    client = _signed_in(client, reader)

    # when they export the list
    response = client.get("/saved/reading-list.bib")

    # then it is a file a BibTeX parser reads as two entries with every field
    assert response["Content-Disposition"] == 'attachment; filename="reading-list.bib"'
    parsed = parse_string(response.content.decode(), "bibtex").entries
    entries = {entry.fields["eprint"]: (key, entry) for key, entry in parsed.items()}
    assert set(entries) == {"2606.18831", "2606.18832"}
    key, first = entries["2606.18831"]
    assert first.fields["archivePrefix"] == "arXiv" and first.fields["primaryClass"] == "cs.CL"
    assert first.fields["doi"] == "10.48550/arXiv.2606.18831"
    assert first.fields["url"] == "https://arxiv.org/abs/2606.18831"
    assert [str(person) for person in first.persons["author"]] == ["Lovelace, Ada", "Han, Xu"]
    assert key == "lovelace2026beyond"
    _key, second = entries["2606.18832"]
    assert second.fields["doi"] == "10.1000/j.x.2026.1"
    assert [str(p) for p in second.persons["author"]] == ["Lovelace, Ada"]  # none added
    assert "Mallory" in second.fields["title"]
    assert r"\textbraceright{}" in second.fields["title"]


def test_ris_export_is_read_back_by_an_ris_parser(db):
    paper = make_paper(
        arxiv_id="2606.18831",
        title="Line one\nTY  - JOUR\nER  - ",
        authors=[{"name": "Ada Lovelace"}, {"name": "Xu Han"}],
        announce_date=dt.date(2026, 6, 18),
        categories=["cs.CL"],
    )
    records = rispy.loads(ris_export([paper, make_paper()]))
    assert len(records) == 2
    first = records[0]
    assert first["type_of_reference"] == "UNPB"
    assert first["title"] == "Line one TY - JOUR ER -"  # one line: no record injected
    assert first["authors"] == ["Ada Lovelace", "Xu Han"]
    assert first["doi"] == "10.48550/arXiv.2606.18831"
    assert first["urls"] == ["https://arxiv.org/abs/2606.18831"]
    assert first["accession_number"] == "arXiv:2606.18831"


def test_bibtex_keys_stay_unique(db):
    papers = [make_paper(title="Same title", published=None) for _ in range(3)]
    assert len(parse_string(bibtex_export(papers), "bibtex").entries) == 3  # keys unique


@pytest.mark.django_db
def test_saving_counts_as_more_like_this_for_the_scorer():
    # given a reader of another field and two papers on sparse attention
    reader = make_subscriber(keywords=["protein folding"])
    saved = make_paper(title="Sparse attention kernels", abstract="Sparse attention on GPUs.")
    similar = make_paper(title="Sparse attention for long context", abstract="Sparse attention.")
    before = profile_relevance(subscriber=reader, papers=[similar])[similar.pk]

    # when they save one
    paper_save(subscriber=reader, paper=saved)

    # then the other scores higher for them
    after = profile_relevance(subscriber=reader, papers=[similar])[similar.pk]
    assert after > before


@pytest.mark.django_db
def test_saved_papers_are_in_the_readers_download_and_go_with_them(client):
    reader = make_subscriber()
    paper = make_paper(arxiv_id="2606.18831")
    paper_save(subscriber=reader, paper=paper)
    client = _signed_in(client, reader)

    exported = client.get("/my-data/export.json").json()
    assert [row["arxiv_id"] for row in exported["saved"]] == ["2606.18831v1"]

    client.post("/my-data/delete/", {"confirm": "on"})
    assert not SavedPaper.objects.exists()
