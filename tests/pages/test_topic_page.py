"""The topic page of every topic: all of the day's papers on one page up to 50, and the day's
brief of the topic (the LLM's, behind the day's breaker, else a lexical one)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from digests.llm.breaker import llm_gate
from digests.llm.prompts import BRIEF_PROMPT_VERSION, ENRICH_PROMPT_VERSION
from digests.models import Topic, TopicBrief
from pages.lists import TOPIC_PAGE_SIZE
from tests.factories import make_enrichment, make_paper, make_topic

DAY = dt.date(2026, 6, 18)


def _topic(**fields) -> Topic:
    fields.setdefault("slug", "rl")
    fields.setdefault("names", {"en": "Reinforcement Learning", "zh": "强化学习"})
    fields.setdefault("categories", ["cs.LG"])
    fields.setdefault("keywords", ["reinforcement learning", "policy optimization", "reward"])
    fields.setdefault("featured", False)
    return make_topic(**fields)


def _hit(score: int = 80, *, slug: str = "rl", **fields):
    """A paper of DAY whose Chinese LLM reading hits `slug` with `score`."""
    fields.setdefault("categories", ["cs.LG"])
    paper = make_paper(announce_date=DAY, **fields)
    make_enrichment(
        paper=paper,
        language="zh",
        prompt_version=ENRICH_PROMPT_VERSION,
        summary="一句话总结。",
        topic_hits=[{"topic": slug, "score": score, "reason": "命中原因"}],
    )
    return paper


def _url(slug: str = "rl", **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("public:topic", args=[slug]) + (f"?{query}" if query else "")


def _shown(html: str) -> list[str]:
    return re.findall(r'id="paper-([^"]+)"', html)


def _brief(html: str) -> str:
    match = re.search(r'<section class="brief" id="brief"[^>]*>(.*?)</section>', html, re.DOTALL)
    return match.group(1) if match else ""


@pytest.mark.django_db
def test_a_topic_that_is_not_featured_has_its_page(client):
    # given a topic not featured on the home page, and a paper of the day hitting it
    _topic()
    paper = _hit(title="Policy optimization with sparse reward")

    # when its page is opened
    response = client.get(_url(), HTTP_ACCEPT_LANGUAGE="en")

    # then it lists the paper
    assert response.status_code == 200
    assert _shown(response.content.decode()) == [paper.arxiv_id]


@pytest.mark.django_db
def test_all_of_the_days_papers_on_one_page_up_to_fifty(client):
    # given 55 papers hitting the topic, with falling scores
    _topic()
    papers = [_hit(score=99 - n, title=f"Paper {n}") for n in range(55)]

    # when the page, and the next, are opened
    first = client.get(_url()).content.decode()
    second = client.get(_url(date="2026-06-18", page="2")).content.decode()

    # then the first holds the 50 most relevant, numbered 01 to 50, the next the other five,
    # numbered on; there is no third
    assert TOPIC_PAGE_SIZE == 50
    assert _shown(first) == [p.arxiv_id for p in papers[:50]]
    assert '<span class="number">01.</span>' in first and '<span class="number">50.</span>' in first
    assert _shown(second) == [p.arxiv_id for p in papers[50:]]
    assert '<span class="number">51.</span>' in second
    assert client.get(_url(date="2026-06-18", page="3")).status_code == 404


@pytest.mark.django_db
def test_without_an_llm_the_page_shows_a_lexical_brief(client, settings):
    # given no LLM, and three papers hitting the topic, one with a hostile title
    settings.OPENAI_API_KEY = ""
    _topic()
    best = _hit(score=95, title="<script>alert(1)</script> Policy optimization at scale")
    _hit(score=80, title="Reward shaping for reinforcement learning", categories=["cs.AI"])
    _hit(score=70, title="Another reward model")

    # when the page is opened in English
    html = client.get(_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then the brief says how many, from which categories, which keywords recur, and the most
    # relevant papers with their numbers on the page, the title escaped
    brief = _brief(html)
    assert "The day in brief" in brief
    assert "3 papers of 2026-06-18 hit Reinforcement Learning." in brief
    assert "Most are listed in cs.LG (2), cs.AI (1)." in brief
    assert "Recurring terms: reward (2), reinforcement learning (1), policy optimization (1)." in (
        brief
    )
    assert "“&lt;script&gt;alert(1)&lt;/script&gt; Policy optimization at scale” [1]" in brief
    assert "<script>" not in html
    assert _shown(html)[0] == best.arxiv_id


@pytest.mark.django_db
def test_the_llm_brief_is_shown_with_its_citations_as_the_page_numbers_them(client, settings):
    # given the day's LLM brief of the topic, citing papers in its own order, one not on the page
    settings.OPENAI_API_KEY = ""
    topic = _topic()
    first, second = _hit(score=95), _hit(score=60)
    elsewhere = make_paper(announce_date=DAY)
    TopicBrief.objects.create(
        topic=topic,
        date=DAY,
        language="zh",
        prompt_version=BRIEF_PROMPT_VERSION,
        text="两篇论文 [1] 与 [2] 方法不同；另见 [3]。<b>粗体</b>",
        paper_ids=[second.pk, first.pk, elsewhere.pk],
    )

    # when a Chinese reader opens the page
    html = client.get(_url(), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    # then the brief is the LLM's, each citation the paper's number here, the absent one dropped,
    # and its text is text
    brief = _brief(html)
    assert "两篇论文 [2] 与 [1] 方法不同；另见 。&lt;b&gt;粗体&lt;/b&gt;" in brief
    assert 'lang="zh"' in html.split('id="brief"', 1)[1][:20]


@pytest.mark.django_db
def test_with_an_llm_the_first_view_asks_for_the_topics_brief_once(client, llm_stub):
    # given an LLM, a topic nobody follows, and two papers the LLM read as hitting it
    _topic()
    _hit(score=90, title="Policy optimization at scale")
    _hit(score=70, title="Reward shaping")

    # when the page is opened (the task runs at once in tests), then opened again
    first = client.get(_url(), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    calls = [r for r in llm_stub.requests if "brief" in str(r)]
    second = client.get(_url(), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    # then one brief call was made, kept, and shown both times as the AI brief
    assert len(calls) == 1
    assert len([r for r in llm_stub.requests if "brief" in str(r)]) == 1
    assert TopicBrief.objects.filter(topic__slug="rl", date=DAY, language="zh").count() == 1
    for html in (first, second):
        assert "AI 每日简报" in _brief(html) or "AI brief of the day" in _brief(html)
        assert "2 new paper(s)" in _brief(html)


@pytest.mark.django_db
def test_with_the_days_llm_breaker_open_the_page_shows_the_lexical_brief(client, llm_stub):
    # given an LLM whose breaker is open for the day
    _topic()
    _hit(score=90, title="Policy optimization at scale")
    for _ in range(3):
        llm_gate(DAY).failure("timeout")

    # when the page is opened
    html = client.get(_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then no call was made and the lexical brief stands in
    assert [r for r in llm_stub.requests if "brief" in str(r)] == []
    assert "1 paper of 2026-06-18 hits Reinforcement Learning." in _brief(html)


@pytest.mark.django_db
@pytest.mark.parametrize("n", [5, 50])
def test_topic_page_queries_do_not_grow_with_its_fifty_papers(
    client, settings, django_assert_num_queries, n
):
    # given no LLM and n papers hitting the topic
    settings.OPENAI_API_KEY = ""
    _topic()
    for i in range(n):
        _hit(score=50 + i % 40)

    # when the page is rendered
    # then: topics, the latest and previous days, the day's papers, readings, the brief
    with django_assert_num_queries(7):
        response = client.get(_url())
    assert len(response.context["view"].items) == n
