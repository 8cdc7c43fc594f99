"""Public topic and author pages, and the author suggestions: fields, languages, paging, speed."""

from __future__ import annotations

import datetime as dt
import math
import random
import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from digests.authors import (
    BUILD_LOCK_KEY,
    author_index_build,
    author_index_refresh,
    author_suggest,
)
from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import AnnounceType, Enrichment, Paper, Topic
from digests.scoring.lexical import LEXICAL_VERSION
from digests.scoring.signals import REPLACEMENT_FACTOR, WEIGHTS
from pages.lists import announce_day_parse, page_number_parse
from subscribers.session import SESSION_KEY, email_fingerprint
from tests.factories import make_enrichment, make_paper, make_subscriber, make_topic

DAY = dt.date(2026, 6, 18)
EARLIER = dt.date(2026, 6, 17)
HOSTILE = {
    "title": "<script>alert('title')</script> Scaling",
    "abstract": "<img src=x onerror=alert('abstract')> We study [click](javascript:alert(1)).",
    "comment": "<a href=\"javascript:alert('comment')\">Accepted</a>",
    "author": "<img src=x onerror=alert('author')> Eve",
    "summary": "[a link](javascript:alert('summary')) <b>bold</b>",
    "reason": "javascript:alert('reason') <script>alert(2)</script>",
    "translated": "<svg onload=alert('zh')>译题",
}


def _topics() -> tuple[Topic, Topic, Topic]:
    llm = make_topic(
        slug="llm",
        names={"en": "Large Language Models", "zh": "语言大模型"},
        descriptions={"en": "Language models and their uses.", "zh": "大语言模型及其应用。"},
        categories=["cs.CL", "cs.AI", "cs.LG"],
        featured=True,
    )
    post = make_topic(
        slug="post-training",
        names={"en": "Post-training", "zh": "后训练"},
        parent=llm,
        featured=True,
    )
    quantum = make_topic(slug="quantum", names={"en": "Quantum", "zh": "量子"}, featured=True)
    return llm, post, quantum


def _paper(
    *,
    topic: str = "llm",
    score: int = 80,
    day: dt.date = DAY,
    zh: dict | None = None,
    **fields,
) -> Paper:
    """A paper of `day` with a Chinese LLM reading and a lexical one, both hitting `topic`."""
    fields.setdefault(
        "authors",
        [
            {"name": "Lorenzo Mazzaschi", "affiliations": ["Zhejiang University"]},
            {"name": "Ada Lovelace", "affiliations": ["OpenBMB"]},
        ],
    )
    paper = make_paper(announce_date=day, **fields)
    reading = {
        "title": f"译: {paper.title}",
        "abstract": "中文摘要。",
        "summary": "一句话总结。",
        "affiliations": ["浙江大学", "OpenBMB"],
        "topic_hits": [{"topic": topic, "score": score, "reason": "命中原因"}],
        **(zh or {}),
    }
    make_enrichment(paper=paper, language="zh", prompt_version=ENRICH_PROMPT_VERSION, **reading)
    make_enrichment(
        paper=paper,
        language="en",
        prompt_version=LEXICAL_VERSION,
        status=Enrichment.Status.LLM_LESS,
        title=paper.title,
        abstract=paper.abstract,
        summary="The abstract's own sentence.",
        topic_hits=[{"topic": topic, "score": 42, "reason": "language model"}],
    )
    return paper


def _relevance(hit: float, damping: float = 1.0) -> int:
    """The scorer's relevance of a topic hit (0–1) for a reader who follows only that topic."""
    return round(100 * (1 - math.exp(-WEIGHTS["topic"] * hit * damping)))


def _topic_url(slug: str = "llm", **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("public:topic", args=[slug]) + (f"?{query}" if query else "")


def _ids_in_order(html: str, papers: list[Paper]) -> list[str]:
    found = [(html.find(f'id="paper-{p.arxiv_id}"'), p.arxiv_id) for p in papers]
    return [arxiv_id for position, arxiv_id in sorted(found) if position >= 0]


# Topic page


@pytest.mark.django_db
def test_topic_page_shows_the_days_hits_ranked_by_relevance_with_every_field(client):
    # given the LLM topic, a paper hitting it, one hitting its sub-topic harder, one off-topic,
    # and one hitting it on another day
    _topics()
    plain = _paper(
        score=70,
        title="Beyond Reward Engineering",
        comment="15 pages, 6 figures",
        categories=["cs.CL", "cs.AI"],
    )
    sub = _paper(
        topic="post-training",
        score=95,
        title="A Survey of DPO",
        announce_type=AnnounceType.REPLACE,
        zh={"topic_hits": [{"topic": "post-training", "score": 95, "reason": "综述DPO"}]},
    )
    off = _paper(topic="quantum", score=99, title="Qubits")
    old = _paper(score=90, day=EARLIER, title="Yesterday's paper")

    # when a Chinese reader opens the topic page
    response = client.get(_topic_url(), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")

    # then it shows the topic, its sources and the day's two hits, each at the relevance a
    # reader of this topic alone gets (the scorer's): the sub-topic's replacement, damped as
    # for any reader who does not ask for updates, after the new paper
    html = response.content.decode()
    assert response.status_code == 200
    assert "语言大模型" in html and "Large Language Models" in html
    assert "大语言模型及其应用。" in html
    assert "cs.CL, cs.AI, cs.LG" in html
    assert "2026-06-18" in html
    assert _ids_in_order(html, [plain, sub, off, old]) == [plain.arxiv_id, sub.arxiv_id]
    # and each with its fields: relevance, announce type, both titles, authors as links,
    # paired affiliations, the hit and its reason, the summary, comments, both abstracts
    assert f"{_relevance(0.70)}%" in html and f"{_relevance(0.95, REPLACEMENT_FACTOR)}%" in html
    assert "版本更新" in html and "新提交" in html
    assert "A Survey of DPO" in html and "译: A Survey of DPO" in html
    author_url = reverse("public:author", args=["Lorenzo Mazzaschi"])
    assert f'<a href="{author_url}">Lorenzo Mazzaschi</a>' in html
    assert "Zhejiang University(浙江大学) · OpenBMB" in html
    assert "后训练: 综述DPO" in html
    assert "一句话总结。" in html
    assert "15 pages, 6 figures" in html
    assert html.index("中文摘要。") < html.index("We study things.")
    assert response.context["view"].count == 2


@pytest.mark.django_db
def test_topic_page_in_english_labels_announce_types_in_english(client):
    # given a cross-listed paper hitting the topic
    _topics()
    _paper(announce_type=AnnounceType.CROSS)

    # when an English reader opens the page
    html = client.get(_topic_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then labels are English, and the Chinese translation is the fallback reading
    assert "cross-list" in html
    assert "Topic hit" in html and "AI summary" in html
    assert "一句话总结。" in html


@pytest.mark.django_db
def test_topic_page_speaks_the_signed_in_subscribers_language(client):
    # given a signed-in subscriber reading Chinese, in an English browser
    _topics()
    _paper()
    subscriber = make_subscriber(language="zh")
    session = client.session
    session[SESSION_KEY] = {"id": subscriber.pk, "fp": email_fingerprint(subscriber.email)}
    session.save()

    # when they open the topic page
    html = client.get(_topic_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then its labels are Chinese
    assert "专题命中" in html and "新提交" in html


@pytest.mark.django_db
def test_topic_page_falls_back_to_the_lexical_reading_without_a_translation(client):
    # given a paper with only its lexical (LLM-less) reading
    _topics()
    paper = make_paper(announce_date=DAY, title="Only lexical")
    make_enrichment(
        paper=paper,
        language="en",
        prompt_version=LEXICAL_VERSION,
        status=Enrichment.Status.LLM_LESS,
        title=paper.title,
        summary="We study things.",
        topic_hits=[{"topic": "llm", "score": 54, "reason": "language model, LLM"}],
    )

    # when the page is opened
    html = client.get(_topic_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then the paper is there with its lexical hit and summary, and no translated fields
    assert f"{_relevance(0.54)}%" in html
    assert "Large Language Models: language model, LLM" in html
    assert "Summary (from the abstract)" in html
    assert "AI translation of the abstract" not in html


@pytest.mark.django_db
def test_topic_page_date_picker_walks_the_announcement_days(client):
    # given papers on two announcement days, a weekend between others
    _topics()
    first = _paper(day=dt.date(2026, 6, 12), title="Friday")
    second = _paper(day=dt.date(2026, 6, 15), title="Monday")
    third = _paper(day=dt.date(2026, 6, 16), title="Tuesday")

    # when the page opens without a date, and then on the Monday
    latest = client.get(_topic_url())
    monday = client.get(_topic_url(date="2026-06-15"))

    # then the latest day is the default, and each day links to its neighbours
    assert _ids_in_order(latest.content.decode(), [first, second, third]) == [third.arxiv_id]
    assert latest.context["view"].previous_day == dt.date(2026, 6, 15)
    assert latest.context["view"].next_day is None
    html = monday.content.decode()
    assert _ids_in_order(html, [first, second, third]) == [second.arxiv_id]
    assert 'href="?date=2026-06-12"' in html and 'href="?date=2026-06-16"' in html
    assert '<input type="date" name="date" value="2026-06-15" required>' in html


@pytest.mark.django_db
def test_topic_page_on_a_day_without_hits_says_so(client):
    # given a paper on another day only
    _topics()
    _paper(day=EARLIER)

    # when the page is asked for a later day
    response = client.get(_topic_url(date="2026-06-20"), HTTP_ACCEPT_LANGUAGE="en")

    # then it answers with no paper and a way back
    assert response.status_code == 200
    assert "No paper of this day hits this topic." in response.content.decode()
    assert response.context["view"].previous_day == EARLIER


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "2026-06-31", "2026-W25-1", "20260618"])
def test_topic_page_bad_date_is_a_clear_400(client, bad):
    # given the topic
    _topics()

    # when the date is not a YYYY-MM-DD day
    response = client.get(_topic_url(date=bad), HTTP_ACCEPT_LANGUAGE="en")

    # then the answer is a 400 page that says what to write
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["0", "-1", "x", "1.5", "99999"])
def test_bad_page_numbers_are_a_clear_400(client, bad):
    # given the topic
    _topics()

    # when the page number is not one
    topic = client.get(_topic_url(page=bad), HTTP_ACCEPT_LANGUAGE="en")
    author = client.get(reverse("public:author", args=["Ada Lovelace"]) + f"?page={bad}")

    # then both pages answer 400 with a message
    assert topic.status_code == author.status_code == 400
    assert "page number" in topic.content.decode()


@pytest.mark.django_db
def test_unknown_topics_are_404(client):
    # given a topic that is not featured (its page exists: tests/pages/test_topic_page.py)
    make_topic(slug="hidden", featured=False)

    # when an unknown topic's page is asked for
    # then it does not exist
    assert client.get(_topic_url("nope")).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("n", [5, 20])
@pytest.mark.parametrize(("params", "queries"), [({}, 7), ({"date": "2026-06-18"}, 7)])
def test_topic_page_queries_do_not_grow_with_papers(
    client, django_assert_num_queries, n, params, queries
):
    # given n papers hitting the topic, each with two readings, several authors and topics
    _topics()
    for i in range(n):
        _paper(score=50 + i, topic="post-training" if i % 2 else "llm")

    # when the page is rendered, for the latest day or a given one
    # then the queries are the same for 5 and 20 papers: topics, the day (latest and previous;
    # or previous and next: one index lookup each), the day's hits, papers, readings, the brief
    with django_assert_num_queries(queries):
        response = client.get(_topic_url(**params))
    assert response.context["view"].count == n


# Author page


@pytest.mark.django_db
def test_author_page_lists_every_spelling_of_the_author_newest_first(client):
    # given papers by Lorenzo Mazzaschi written in several ways, and by a namesake
    spellings = ["Lorenzo Mazzaschi", "L. Mazzaschi", "Mazzaschi, Lorenzo", "Lorenzo M. Mazzaschi"]
    papers = [
        make_paper(
            announce_date=DAY - dt.timedelta(days=n), authors=[{"name": name, "affiliations": []}]
        )
        for n, name in enumerate(spellings)
    ]
    other = make_paper(authors=[{"name": "Luca Mazzaschi", "affiliations": []}])

    # when the author pages of the full name and of the initial are opened
    full = client.get(reverse("public:author", args=["Lorenzo Mazzaschi"]))
    initial = client.get(reverse("public:author", args=["L. Mazzaschi"]))

    # then the full name meets every spelling, newest first, and not the namesake; the initial
    # meets only papers written with the initial (as digests.scoring.matching rules)
    assert full.status_code == 200
    assert _ids_in_order(full.content.decode(), [*papers, other]) == [p.arxiv_id for p in papers]
    assert _ids_in_order(initial.content.decode(), [*papers, other]) == [papers[1].arxiv_id]
    assert full.context["view"].total == 4


@pytest.mark.django_db
def test_author_page_matches_accents_and_tex_accents(client):
    # given papers by Hajdušek written with a TeX accent and with the letter itself
    tex = make_paper(authors=[{"name": "Michal Hajdu\\v{s}ek", "affiliations": []}])
    plain = make_paper(authors=[{"name": "Michal Hajdušek", "affiliations": []}])

    # when the page of the unaccented name is opened
    response = client.get(reverse("public:author", args=["Michal Hajdusek"]))

    # then both are there
    assert sorted(_ids_in_order(response.content.decode(), [tex, plain])) == sorted(
        [tex.arxiv_id, plain.arxiv_id]
    )


# Hostile text


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["topic", "author"])
def test_hostile_paper_and_model_text_is_rendered_as_text(client, page):
    # given a paper whose every field, and its reading, carries markup, scripts and links
    _topics()
    _paper(
        title=HOSTILE["title"],
        abstract=HOSTILE["abstract"],
        comment=HOSTILE["comment"],
        journal_ref=HOSTILE["comment"],
        authors=[{"name": HOSTILE["author"], "affiliations": [HOSTILE["title"]]}],
        zh={
            "title": HOSTILE["translated"],
            "abstract": HOSTILE["abstract"],
            "summary": HOSTILE["summary"],
            "affiliations": [HOSTILE["translated"]],
            "topic_hits": [{"topic": "llm", "score": 90, "reason": HOSTILE["reason"]}],
        },
    )

    # when the topic page, or the hostile author's page, is opened
    url = _topic_url() if page == "topic" else reverse("public:author", args=[HOSTILE["author"]])
    response = client.get(url)

    # then no field comes out as markup or as a link, and each is there escaped
    html = response.content.decode()
    assert response.status_code == 200
    for raw in HOSTILE.values():
        assert raw not in html
    for tag in ("<script", "<img", "<svg", "<b>", 'href="javascript', "href='javascript"):
        assert tag not in html.split("<main>", 1)[1]
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; Scaling" in html
    assert "[a link](javascript:alert(&#x27;summary&#x27;))" in html
    assert "&lt;svg onload=alert(&#x27;zh&#x27;)&gt;译题" in html


# Author suggestions


def _suggest(client, q: str) -> list[dict]:
    response = client.get(reverse("public:author_suggest"), {"q": q})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()["authors"]


@pytest.mark.django_db
def test_suggest_matches_any_name_part_by_prefix_without_case_or_accents(client):
    # given papers by Zoë Müller (twice), Zoltan Kiss, and Lorenzo Mazzaschi with his initial
    make_paper(authors=[{"name": "Zoë Müller", "affiliations": []}])
    make_paper(
        authors=[
            {"name": "Zoë Müller", "affiliations": []},
            {"name": "Zoltan Kiss", "affiliations": []},
        ]
    )
    make_paper(authors=[{"name": "Lorenzo Mazzaschi", "affiliations": []}])
    make_paper(authors=[{"name": "L. Mazzaschi", "affiliations": []}])

    # when names are asked for by first-name, last-name and two-word prefixes
    # then the matches come, most papers first, with what their pages list
    assert _suggest(client, "ZO") == [
        {"name": "Zoë Müller", "papers": 2},
        {"name": "Zoltan Kiss", "papers": 1},
    ]
    assert _suggest(client, "mull") == [{"name": "Zoë Müller", "papers": 2}]
    assert _suggest(client, "müll") == [{"name": "Zoë Müller", "papers": 2}]
    assert _suggest(client, "mazz") == [
        {"name": "L. Mazzaschi", "papers": 1},
        {"name": "Lorenzo Mazzaschi", "papers": 2},
    ]
    assert _suggest(client, "lorenzo maz") == [{"name": "Lorenzo Mazzaschi", "papers": 2}]
    assert _suggest(client, "maz lor") == [{"name": "Lorenzo Mazzaschi", "papers": 2}]


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["", "z", " z ", "..", "-"])
def test_suggest_needs_two_characters(client, django_assert_num_queries, q):
    # given an author
    make_paper(authors=[{"name": "Zoë Müller", "affiliations": []}])

    # when fewer than two characters are typed
    # then nothing is looked up and nothing is suggested
    with django_assert_num_queries(0):
        assert _suggest(client, q) == []


@pytest.mark.django_db
def test_suggest_gives_ten_names_at_most(client):
    # given 12 authors named Wang
    for n in range(12):
        make_paper(authors=[{"name": f"Wei{chr(97 + n)} Wang", "affiliations": []}])

    # when "wang" is typed
    # then ten come back
    assert len(_suggest(client, "wang")) == 10


@pytest.mark.django_db
def test_suggest_sees_papers_ingested_after_the_index_was_built(client, django_assert_num_queries):
    # given an index built for one paper
    make_paper(authors=[{"name": "Yongjin Yang", "affiliations": []}])
    assert _suggest(client, "yong") == [{"name": "Yongjin Yang", "papers": 1}]

    # when another paper arrives
    make_paper(authors=[{"name": "Yongjin Yang", "affiliations": []}])

    # then the next answer counts it; the one after reads the latest id only
    assert _suggest(client, "yong") == [{"name": "Yongjin Yang", "papers": 2}]
    with django_assert_num_queries(1):
        _suggest(client, "yong")


@pytest.mark.django_db
def test_while_another_process_rebuilds_the_last_index_answers(client):
    # given an index built, then a new paper, while another process holds the build lock
    make_paper(authors=[{"name": "Yongjin Yang", "affiliations": []}])
    assert _suggest(client, "yong") == [{"name": "Yongjin Yang", "papers": 1}]
    make_paper(authors=[{"name": "Yongjin Yang", "affiliations": []}])
    cache.add(BUILD_LOCK_KEY, 1, 60)

    # when a name is asked for, and again once the build is done
    during = _suggest(client, "yong")
    cache.delete(BUILD_LOCK_KEY)
    after = _suggest(client, "yong")

    # then the reader is not kept waiting: the last index answers, then the new one
    assert during == [{"name": "Yongjin Yang", "papers": 1}]
    assert after == [{"name": "Yongjin Yang", "papers": 2}]


@pytest.mark.django_db
def test_refreshing_the_index_after_ingestion_spares_readers_the_build(
    client, django_assert_num_queries
):
    # given papers, and the index refreshed as the pipeline would after ingesting them
    make_paper(authors=[{"name": "Yingqi Fan", "affiliations": []}])
    author_index_refresh()

    # when a reader asks for names
    # then only the latest paper id is read
    with django_assert_num_queries(1):
        assert _suggest(client, "fan") == [{"name": "Yingqi Fan", "papers": 1}]


def test_suggest_on_100k_papers_answers_in_milliseconds():
    # given an index of 100,000 papers by 60,000 authors (no database: the pure index)
    rng = random.Random(8)
    syllables = ["li", "wa", "ng", "ma", "zz", "sc", "hi", "lo", "re", "ya", "ka", "ta", "mi"]

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()

    names = [f"{word()} {word()}" for _ in range(60_000)]
    index = author_index_build((i, [rng.choice(names) for _ in range(4)]) for i in range(100_000))

    # when short and long prefixes are looked up
    started = time.perf_counter()
    for q in ["li", "wa", "ma", "lima", "ka li", "zzz"]:
        author_suggest(index=index, query=q)
    elapsed = (time.perf_counter() - started) / 6

    # then each answer takes well under 50 ms (a few ms on a laptop)
    assert elapsed < 0.05, f"{elapsed * 1000:.1f} ms per lookup"


# Plain functions


def test_announce_day_parse_takes_iso_days_only():
    assert announce_day_parse("2026-06-18") == DAY
    for bad in ["2026-6-18", "20260618", "2026-W25", "2026-02-30", " 2026-06-18"]:
        with pytest.raises(ValueError):
            announce_day_parse(bad)


def test_page_number_parse():
    assert page_number_parse(None) == page_number_parse("") == 1
    assert page_number_parse("3") == 3
    for bad in ["0", "-2", "x", "²", "10001"]:
        with pytest.raises(ValueError):
            page_number_parse(bad)


@pytest.mark.django_db
def test_home_links_each_featured_topic_to_its_page(client):
    # given featured topics
    _topics()

    # when the home page is opened
    html = client.get("/").content.decode()

    # then the top-level topic links to its page
    assert f'href="{reverse("public:topic", args=["llm"])}"' in html
