"""The one selector of "the reading of these papers in this language", and the latest day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Enrichment, IngestDay
from digests.readings import (
    CHINESE,
    NO_READING,
    latest_issue_date,
    reading_for_language,
    readings_for,
)
from digests.scoring.lexical import LEXICAL_VERSION
from digests.shown import best_topic_hit, shown_paper
from tests.factories import make_enrichment, make_paper, make_topic

DAY = dt.date(2026, 6, 18)
PAGE = {"loose": True, "stand_in": CHINESE}  # what the public pages ask


def _reading(language: str, status: str = Enrichment.Status.OK) -> Enrichment:
    return Enrichment(language=language, status=status, prompt_version=ENRICH_PROMPT_VERSION)


def test_a_page_gets_its_language_then_chinese():
    zh, zh_cn, en, fr = _reading("zh"), _reading("zh-cn"), _reading("en"), _reading("fr")
    failed_en = _reading("en", Enrichment.Status.FAILED)
    assert reading_for_language([zh_cn, zh, en], language="zh-hans", **PAGE) is zh
    assert reading_for_language([zh, en], language="en", **PAGE) is en
    assert reading_for_language([fr, zh], language="en", **PAGE) is zh  # French is not English
    assert reading_for_language([failed_en, zh_cn], language="en", **PAGE) is zh_cn
    assert reading_for_language([fr], language="en", **PAGE) is None
    assert reading_for_language([fr, zh], language="fr", **PAGE) is fr


def test_a_reader_gets_their_exact_language_and_no_stand_in():
    zh, zh_cn, en = _reading("zh"), _reading("zh-cn"), _reading("en")
    assert reading_for_language([zh, zh_cn], language="zh-cn") is zh_cn
    assert reading_for_language([zh, en], language="zh-hans") is None
    assert reading_for_language([zh], language="en") is None
    assert reading_for_language([_reading("zh", Enrichment.Status.FAILED)], language="zh") is None
    old_prompt = Enrichment(language="zh", status="ok", prompt_version="enrich-old")
    assert reading_for_language([old_prompt], language="zh") is None


def _llm(paper, language: str, **fields) -> Enrichment:
    return make_enrichment(
        paper=paper, language=language, prompt_version=ENRICH_PROMPT_VERSION, **fields
    )


def _lexical(paper, **fields) -> Enrichment:
    fields.setdefault("summary", "The abstract's own sentence.")
    return make_enrichment(
        paper=paper,
        language="en",
        prompt_version=LEXICAL_VERSION,
        status=Enrichment.Status.LLM_LESS,
        title=paper.title,
        **fields,
    )


@pytest.mark.django_db
def test_readings_of_the_current_version_only_with_the_lexical_one_beside():
    paper = make_paper(version=2)
    _llm(paper, "zh", paper_version=1, title="旧版")  # a reading of the older version
    current = _llm(paper, "zh", title="新版")
    _llm(paper, "en", status=Enrichment.Status.FAILED)
    lexical = _lexical(paper)

    reading = readings_for([paper], "zh")[paper.pk]

    assert reading.llm == current and reading.in_language and reading.language == "zh"
    assert reading.lexical == lexical
    assert reading.every_language == (current,)
    assert reading.shown == (current, lexical)


@pytest.mark.django_db
def test_a_reader_without_a_reading_in_their_language_gets_the_lexical_one():
    paper = make_paper()
    _llm(paper, "zh")
    lexical = _lexical(paper)

    for_reader = readings_for([paper], "ja")[paper.pk]
    for_page = readings_for([paper], "ja", **PAGE)[paper.pk]

    assert (for_reader.llm, for_reader.lexical, for_reader.in_language) == (None, lexical, False)
    assert for_page.llm.language == "zh" and not for_page.in_language  # the Chinese stand-in
    assert for_page.lexical == lexical


@pytest.mark.django_db
def test_every_paper_has_an_entry():
    read, unread = make_paper(), make_paper()
    _llm(read, "zh")
    readings = readings_for([read, unread], "zh")
    assert readings[unread.pk] is NO_READING
    assert readings[read.pk].llm is not None


@pytest.mark.django_db
def test_readings_for_runs_one_query_whatever_the_number_of_papers(django_assert_num_queries):
    papers = [make_paper() for _ in range(6)]
    for paper in papers:
        _llm(paper, "zh")
        _llm(paper, "en")
        _lexical(paper)
    with django_assert_num_queries(1):
        readings = readings_for(papers, "zh", **PAGE)
    assert all(readings[p.pk].llm and readings[p.pk].lexical for p in papers)
    with django_assert_num_queries(0):
        assert readings_for([], "zh") == {}


@pytest.mark.django_db
def test_a_shown_paper_takes_the_llm_reading_and_fills_in_from_the_lexical_one():
    topic = make_topic(slug="rl", names={"en": "RL", "zh": "强化学习"})
    paper = make_paper(
        title="Credit Assignment",
        authors=[{"name": "A", "affiliations": ["Zhejiang University"]}],
    )
    _llm(
        paper,
        "zh",
        title="信用分配",
        abstract="摘要",
        summary="一句话",
        affiliations=["浙江大学"],
        topic_hits=[{"topic": "rl", "score": 80, "reason": "强化学习"}],
    )
    _lexical(paper, topic_hits=[{"topic": "rl", "score": 40, "reason": "keyword"}])
    unread = make_paper()
    _lexical(unread, topic_hits=[{"topic": "rl", "score": 40, "reason": "keyword"}])
    readings = readings_for([paper, unread], "zh")

    shown = shown_paper(paper, readings[paper.pk], relevance=80)
    assert (shown.translated_title, shown.translated_abstract) == ("信用分配", "摘要")
    assert shown.affiliations == ["Zhejiang University(浙江大学)"]
    assert (shown.summary, shown.summary_is_ai, shown.ai_read) == ("一句话", True, True)
    assert (shown.relevance, shown.arxiv_id, shown.title) == (80, paper.arxiv_id, paper.title)
    hit = best_topic_hit(readings[paper.pk].shown, topics={"rl": topic}, focus=None)
    assert hit == (topic, "强化学习")

    plain = shown_paper(unread, readings[unread.pk])
    assert (plain.translated_title, plain.translated_abstract, plain.language) == ("", "", "")
    assert (plain.summary, plain.summary_is_ai, plain.ai_read) == (
        "The abstract's own sentence.",
        False,
        False,
    )
    hit = best_topic_hit(readings[unread.pk].shown, topics={"rl": topic}, focus={"rl"})
    assert hit == (topic, "keyword")


@pytest.mark.django_db
def test_an_english_reading_abstract_is_shown_only_where_asked():
    paper = make_paper(title="Same")
    _llm(paper, "en", title="Same", abstract="Cleaned abstract.")
    reading = readings_for([paper], "en")[paper.pk]
    assert shown_paper(paper, reading).translated_abstract == "Cleaned abstract."  # e-mail
    assert shown_paper(paper, reading, english_abstract=False).translated_abstract == ""
    assert shown_paper(paper, reading).translated_title == ""  # the title itself


def _ingested(day: dt.date, status: str = IngestDay.Status.ANNOUNCED) -> None:
    IngestDay.objects.create(date=day, status=status, started_at=timezone.now())


@pytest.mark.django_db
def test_latest_issue_date_from_ingest_papers_or_either():
    assert latest_issue_date() is None
    assert latest_issue_date(source="ingest-or-papers") is None
    make_paper(announce_date=DAY)
    assert latest_issue_date() is None  # papers loaded by hand: nothing ingested
    assert latest_issue_date(source="papers") == DAY
    assert latest_issue_date(source="ingest-or-papers") == DAY

    earlier = DAY - dt.timedelta(days=1)
    _ingested(earlier)
    _ingested(DAY + dt.timedelta(days=1), status=IngestDay.Status.STALE)
    assert latest_issue_date() == earlier
    assert latest_issue_date(source="ingest-or-papers") == earlier
    assert latest_issue_date(source="papers") == DAY
    assert latest_issue_date(earlier - dt.timedelta(days=1)) is None
    assert latest_issue_date(earlier, source="papers") is None
    assert latest_issue_date(DAY, source="papers") == DAY
