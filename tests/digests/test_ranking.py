"""Ranking on the recorded day, through the database: authors, keywords, feedback, coverage."""

from __future__ import annotations

import datetime as dt

import pytest

from devtools.arxiv_fixtures import FakePaper, day_write
from digests.assemble import digest_assemble
from digests.enrich import lexical_enrich
from digests.ingest import day_ingest
from digests.llm.embeddings import papers_embed
from digests.models import Feedback, Paper, Topic
from digests.scoring.matching import stems
from tests.factories import make_subscriber

DAY = dt.date(2026, 6, 18)


@pytest.fixture
def demo_day(recorded_arxiv, catalogue):
    day_ingest(categories=["cs.AI", "cs.CL", "cs.LG"], date=DAY)
    lexical_enrich(list(Paper.objects.all()))


def _items(digest):
    return list(digest.items.select_related("paper").order_by("rank"))


@pytest.mark.django_db
def test_a_followed_author_of_the_day_comes_first_with_the_author_reason(demo_day):
    reader = make_subscriber(
        authors=["H. Huang", "Heyan Huang"],
        topics=[Topic.objects.get(slug="post-training")],
        categories=["cs.CL", "cs.LG"],
        min_relevance=10,
    )

    items = _items(digest_assemble(subscriber=reader, issue_date=DAY))

    assert items[0].paper.arxiv_id == "2606.18810"
    assert items[0].reason.split("\n")[0] == "author you follow: Heyan Huang"
    assert len(items) > 5


@pytest.mark.django_db
def test_a_keyword_readers_top_ten_all_contain_the_keyword(demo_day):
    # given a reader of a keyword, with the default minimum relevance
    reader = make_subscriber(keywords=["reinforcement learning"], categories=["cs.LG"])

    items = _items(digest_assemble(subscriber=reader, issue_date=DAY))

    # then every paper of the top ten says it, or its usual abbreviation RL
    top = items[:10]
    assert len(top) == 10
    for item in top:
        text = f" {' '.join(stems(f'{item.paper.title} {item.paper.abstract}'))} "
        assert " reinforc learn " in text or " rl " in text, item.paper.title
        assert item.reason.split("\n")[0] == "keyword: reinforcement learning"


@pytest.mark.django_db
def test_less_like_this_lowers_similar_papers_the_next_day(demo_day, serve_arxiv, tmp_path):
    # given two identical readers; one said "less like this" to a GRPO credit-assignment paper
    disliked = Paper.objects.get(arxiv_id="2606.18810")
    keen = make_subscriber(keywords=["GRPO", "reasoning"], min_relevance=1)
    tired = make_subscriber(keywords=["GRPO", "reasoning"], min_relevance=1)
    Feedback.objects.create(subscriber=tired, paper=disliked, signal="less")
    # when the next day brings a paper much like it, and an unrelated one with the same keywords
    next_day = dt.date(2026, 6, 19)
    folder = day_write(
        tmp_path,
        next_day,
        [
            FakePaper(
                "2606.20001", "Token-level credit assignment for GRPO", abstract=disliked.abstract
            ),
            FakePaper(
                "2606.20002",
                "GRPO for theorem proving",
                abstract="We apply GRPO to formal theorem proving and study reasoning depth.",
            ),
        ],
    )
    serve_arxiv(folder)
    day_ingest(categories=["cs.CL"], date=next_day)

    keen_items = {
        i.paper.arxiv_id: i.relevance
        for i in _items(digest_assemble(subscriber=keen, issue_date=next_day))
    }
    tired_items = {
        i.paper.arxiv_id: i.relevance
        for i in _items(digest_assemble(subscriber=tired, issue_date=next_day))
    }

    # then the similar paper drops for the reader who asked for less, the other barely moves
    similar_drop = keen_items["2606.20001"] - tired_items.get("2606.20001", 0)
    other_drop = keen_items["2606.20002"] - tired_items["2606.20002"]
    assert similar_drop >= 20
    assert 0 <= other_drop < similar_drop / 4


@pytest.mark.django_db
def test_every_interest_is_served_and_the_digest_reads_by_relevance(demo_day):
    # given a reader of a busy topic who also follows one author with a weaker paper
    reader = make_subscriber(
        topics=[Topic.objects.get(slug="post-training")],
        keywords=["reinforcement learning", "distillation"],
        authors=["Douwe Kiela"],
        min_relevance=1,
        max_items=5,
    )

    items = _items(digest_assemble(subscriber=reader, issue_date=DAY))

    # then each interest has a paper among the five, and the % shown only goes down
    reasons = [line for i in items for line in i.reason.split("\n")]
    assert any("author you follow: Douwe Kiela" in r for r in reasons)
    assert any("distillation" in r and r.startswith("keyword") for r in reasons)
    assert any("reinforcement learning" in r and r.startswith("keyword") for r in reasons)
    relevance = [i.relevance for i in items]
    assert relevance == sorted(relevance, reverse=True)
    assert [i.rank for i in items] == list(range(1, len(items) + 1))


@pytest.mark.django_db
def test_a_paper_already_sent_is_not_sent_again(demo_day, serve_arxiv, tmp_path):
    reader = make_subscriber(keywords=["GRPO"], min_relevance=1)
    first = {i.paper_id for i in _items(digest_assemble(subscriber=reader, issue_date=DAY))}
    # the same paper is announced again the next day as a replacement
    paper = Paper.objects.get(pk=next(iter(first)))
    Paper.objects.filter(pk=paper.pk).update(
        announce_date=dt.date(2026, 6, 19), announce_type="replace"
    )

    second = _items(digest_assemble(subscriber=reader, issue_date=dt.date(2026, 6, 19)))

    assert paper.pk not in {i.paper_id for i in second}


@pytest.mark.django_db
def test_the_serendipity_slot_adds_one_labelled_paper_from_outside_the_profile(demo_day):
    plain = make_subscriber(keywords=["GRPO"], max_items=5)
    curious = make_subscriber(keywords=["GRPO"], max_items=5, serendipity=True)

    plain_items = _items(digest_assemble(subscriber=plain, issue_date=DAY))
    curious_items = _items(digest_assemble(subscriber=curious, issue_date=DAY))

    assert not any(i.reason.startswith("outside your profile") for i in plain_items)
    surprise = curious_items[-1]
    assert surprise.reason.startswith("outside your profile: a strong paper in ")
    assert surprise.paper_id not in {i.paper_id for i in plain_items}
    assert len(curious_items) <= 5


@pytest.mark.django_db
def test_with_embeddings_seed_papers_pull_in_close_papers(demo_day, llm_stub, settings):
    # given every paper embedded, and a reader whose only interest is one seed paper
    settings.LLM_EMBEDDING_MODEL = "stub-embed"
    assert papers_embed(list(Paper.objects.all())) == 22
    reader = make_subscriber(seed_papers=["2606.18810v1"], min_relevance=1)

    items = _items(digest_assemble(subscriber=reader, issue_date=DAY))

    # then papers close to it come, by the same reason; the seed itself is never sent back
    assert "2606.18810" not in {item.paper.arxiv_id for item in items}
    seed = Paper.objects.get(arxiv_id="2606.18810")
    assert items[0].reason == f"close to your seed paper «{seed.title}»"
    assert len(items) >= 3
