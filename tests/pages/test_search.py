"""Search over the papers we hold (PostgreSQL's full-text search and trigram index, as CI runs
it): ranking, filters, the profile sort, absurd input, hostile text, pinned query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Paper
from pages.search import CANDIDATES, SearchFilters, paper_search, search_terms
from subscribers.models import Subscriber
from subscribers.tokens import signin_token
from tests.factories import make_enrichment, make_paper, make_subscriber

DAY = dt.date(2026, 6, 18)
HOSTILE = "<script>alert('t')</script><img src=x onerror=alert(1)> Diffusion hostile"


def _signed_in(client: Client, subscriber: Subscriber) -> Client:
    client.post(f"/signin/{signin_token(subscriber_id=subscriber.pk, email=subscriber.email)}/")
    return client


def _ids(text: str, **filters) -> list[str]:
    found = paper_search(text=text, filters=SearchFilters(**filters))
    by_pk = Paper.objects.in_bulk(found)
    return [by_pk[pk].arxiv_id for pk in found]


@pytest.fixture
def library(db) -> dict[str, Paper]:
    return {
        "title": make_paper(
            arxiv_id="2606.00001",
            title="Diffusion models for protein design",
            abstract="We generate structures.",
            authors=[{"name": "Ada Lovelace", "affiliations": []}],
            categories=["q-bio.BM", "cs.LG"],
        ),
        "abstract": make_paper(
            arxiv_id="2606.00002",
            title="Generative structures",
            abstract="A study of diffusion and of the models that learn it.",
            authors=[{"name": "Grace Hopper", "affiliations": []}],
            categories=["cs.LG"],
        ),
        "other_day": make_paper(
            arxiv_id="2606.00003",
            title="Diffusion models again",
            abstract="Later.",
            authors=[{"name": "Katherine Johnson", "affiliations": []}],
            categories=["cs.CV"],
            announce_date=DAY + dt.timedelta(days=1),
        ),
        "unrelated": make_paper(
            arxiv_id="2606.00004",
            title="Graph colouring",
            abstract="Colours on vertices.",
            authors=[{"name": "Émile Borel", "affiliations": []}],
            categories=["math.CO"],
        ),
    }


def test_a_title_match_ranks_above_an_abstract_match(library):
    # when the words are in one paper's title and in another's abstract
    found = _ids("diffusion models")

    # then both are found, the title's first; the paper without the words is not
    assert found.index("2606.00001") < found.index("2606.00002")
    assert "2606.00004" not in found


def test_words_are_stemmed_and_all_required(library):
    assert "2606.00001" in _ids("diffusing model")  # English stemming
    assert _ids("diffusion colouring") == []  # every word must be found


def test_authors_are_found_by_name_even_misspelt_and_without_accents(library):
    assert _ids("Lovelace") == ["2606.00001"]
    assert _ids("Lovelase") == ["2606.00001"]  # pg_trgm's word similarity
    assert _ids("Emile Borel") == ["2606.00004"]  # unaccented: the trigram match


def test_filters_by_category_day_and_source(library):
    assert _ids("diffusion", category="cs.CV") == ["2606.00003"]
    assert set(_ids("diffusion", category="cs.LG")) == {"2606.00001", "2606.00002"}
    assert "2606.00003" not in _ids("diffusion", category="cs.L")  # exact code, no prefix
    assert set(_ids("diffusion", day=DAY)) == {"2606.00001", "2606.00002"}
    assert len(_ids("diffusion", source="arxiv")) == 3
    assert _ids("diffusion", source="biorxiv") == []


def test_an_arxiv_id_finds_that_paper_first(library):
    assert _ids("2606.00004v2")[0] == "2606.00004"


def test_results_are_capped(db):
    Paper.objects.bulk_create(
        Paper(
            arxiv_id=f"2606.{20000 + n}",
            title=f"Sparse attention {n}",
            announce_date=DAY,
            announce_type="new",
        )
        for n in range(CANDIDATES + 5)
    )
    assert len(paper_search(text="sparse attention", filters=SearchFilters())) == CANDIDATES


@pytest.mark.parametrize(
    "query",
    [
        "a" * 100_000,
        "word " * 5_000,
        "&|!():*<->'\"\\ AND OR NOT NEAR( -- ;",
        "\x00\x01 diffusion \x1f",
        "扩散模型 🧬 \u202eledom\u202c",
        "' OR 1=1; DROP TABLE digests_paper; --",
        'title:"diffusion" NEAR(a b) ^c',
        "%_%",
    ],
)
def test_absurd_queries_answer_cleanly(client, library, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert Paper.objects.count() == 4


def test_only_operators_has_no_words_and_says_so(client, library):
    assert search_terms("&& || !! () -- **") == []
    response = client.get("/search/", {"q": "&& || !! ()"})
    assert response.status_code == 200
    assert b'id="no-words"' in response.content


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"category": "cs.CL'; --"}, "is not a category"),
        ({"day": "2026-13-45"}, "is not a date"),
        ({"source": "pubmed"}, "Unknown source"),
        ({"page": "0"}, "whole number"),
    ],
)
def test_bad_filters_get_a_clear_error(client, library, params, message):
    response = client.get("/search/", {"q": "diffusion", **params})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_results_show_the_topic_page_fields_and_hostile_text_as_text(client, db):
    # given a paper whose title carries markup, with a Chinese reading
    paper = make_paper(title=HOSTILE, comment="<b>12 pages</b>", doi="10.1/x")
    make_enrichment(
        paper=paper, language="zh", prompt_version=ENRICH_PROMPT_VERSION, summary="一句话总结"
    )

    # when it is searched for
    html = client.get("/search/", {"q": "hostile diffusion"}).content.decode()

    # then it is shown as the topic page shows papers, every field escaped
    assert f'id="paper-{paper.arxiv_id}"' in html
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "一句话总结" in html and "DOI 10.1/x" in html and "&lt;b&gt;12 pages" in html


def test_profile_sort_orders_by_the_readers_relevance(client, db):
    # given two papers matching "learning", one on the reader's keyword
    first = make_paper(title="Learning to rank learning", abstract="Ranking with learning.")
    second = make_paper(title="Learning for diffusion", abstract="Diffusion models learning.")
    reader = make_subscriber(keywords=["diffusion models"])
    client = _signed_in(client, reader)

    # when they search by best match, then by their profile
    plain = client.get("/search/", {"q": "learning"}).content.decode()
    mine = client.get("/search/", {"q": "learning", "sort": "profile"}).content.decode()

    # then the best match puts the title-heavy paper first; the profile sort puts theirs first
    assert plain.index(f"paper-{first.arxiv_id}") < plain.index(f"paper-{second.arxiv_id}")
    assert mine.index(f"paper-{second.arxiv_id}") < mine.index(f"paper-{first.arxiv_id}")
    assert 'class="badge relevance"' in mine  # the reader's relevance is shown
    assert 'class="badge relevance"' not in plain


def test_a_visitor_cannot_sort_by_a_profile(client, library):
    html = client.get("/search/", {"q": "diffusion", "sort": "profile"}).content.decode()
    assert 'id="sort"' not in html and 'class="badge relevance"' not in html


def _queries(client: Client, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/search/", params).status_code == 200
    return len(captured)


def test_search_page_queries_do_not_grow_with_results(client, db):
    # given 3, then 25 matching papers with readings
    for n in range(3):
        make_enrichment(paper=make_paper(title=f"Quantum error {n}"))
    few = _queries(client, {"q": "quantum error"})
    for n in range(22):
        make_enrichment(paper=make_paper(title=f"Quantum error {n}"))

    # then a page costs the same: search, topics, papers, readings
    assert _queries(client, {"q": "quantum error"}) == few == 4
    assert _queries(client, {"q": "quantum error", "page": "2"}) == 4


def test_signed_in_search_queries_are_pinned(client, db):
    for n in range(12):
        make_paper(title=f"Quantum error {n}", abstract="Surface codes.")
    reader = make_subscriber(keywords=["surface codes"])
    client = _signed_in(client, reader)
    plain = _queries(client, {"q": "quantum error"})
    by_profile = _queries(client, {"q": "quantum error", "sort": "profile"})
    for n in range(12):
        make_paper(title=f"Quantum error {n}", abstract="Surface codes.")
    # session, reader, search, topics, papers, readings, saved marks
    assert _queries(client, {"q": "quantum error"}) == plain == 7
    # the profile sort adds reading the papers once and the scorer's reads of the profile
    assert _queries(client, {"q": "quantum error", "sort": "profile"}) == by_profile
