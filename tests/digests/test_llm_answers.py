"""Real model answers, field by field: a bad field is dropped or cut, the reading kept."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from devtools.llm_stub import OTHER_LANGUAGE, OVERLONG_TOPIC
from digests.enrich import papers_enrich
from digests.ingest import day_ingest
from digests.llm.answers import (
    LIMITS,
    AnswerError,
    brief_answer_parse,
    enrich_answer_parse,
    links_removed,
    wrong_language,
)
from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Enrichment, Paper
from digests.text import clean_text

DAY = dt.date(2026, 6, 18)
KNOWN = {"post-training", "robotics"}


def _parse(answer: dict, *, language: str = "zh", affiliations: int = 2):
    return enrich_answer_parse(
        json.dumps(answer, ensure_ascii=False),
        known_topics=KNOWN,
        affiliation_count=affiliations,
        language=language,
    )


GOOD = {
    "title": "超越奖励工程：长上下文强化学习的数据配方",
    "abstract": "长上下文推理是大型语言模型的一项关键能力。强化学习最近已成为提升它的主要范式。",
    "summary": "本文提出了一种长上下文强化学习的数据配方。",
    "affiliations": ["清华大学", "面壁智能"],
    "topic_hits": [{"topic": "post-training", "score": 88, "reason": "讨论强化学习后训练"}],
}


def test_an_over_long_topic_name_loses_only_that_hit():
    answer = {**GOOD, "topic_hits": [*GOOD["topic_hits"], {"topic": OVERLONG_TOPIC, "score": 70}]}

    reading = _parse(answer)

    assert reading.title == GOOD["title"] and reading.summary == GOOD["summary"]
    assert [h.topic for h in reading.topic_hits] == ["post-training"]


def test_bad_fields_are_cut_or_dropped_and_the_rest_kept():
    answer = {
        **GOOD,
        "summary": "本文" * 1000,  # far too long: cut
        "affiliations": ["清华大学", {"name": "not a string"}],  # the bad one emptied in place
        "topic_hits": [
            {"topic": "robotics", "score": "high"},  # a score that is no number: dropped
            {"topic": "not-a-topic", "score": 99, "reason": "未知"},  # unknown: dropped
            {"topic": "post-training", "score": 1e9, "reason": ["no"]},  # clamped, reason ""
            "junk",
        ],
    }

    reading = _parse(answer)

    assert len(reading.summary) == LIMITS["summary"] and reading.summary.endswith("…")
    assert reading.affiliations == ["清华大学", ""]
    assert [(h.topic, h.score, h.reason) for h in reading.topic_hits] == [
        ("post-training", 100, "")
    ]
    assert reading.title == GOOD["title"]


def test_fields_in_the_wrong_language_are_dropped():
    english = "Beyond reward engineering: a data recipe for long-context reinforcement learning"

    reading = _parse({**GOOD, "title": english})
    assert reading.title == "" and reading.abstract == GOOD["abstract"]
    # an English reader answered in Chinese
    reading = _parse({**GOOD, "title": english, "abstract": OTHER_LANGUAGE}, language="en")
    assert reading.title == english and reading.abstract == "" and reading.summary == ""
    # nothing usable left: invalid, asked again
    with pytest.raises(AnswerError, match="no usable title, abstract or summary"):
        _parse({**GOOD, "title": english, "abstract": english, "summary": english})
    with pytest.raises(AnswerError, match="not in the target language"):
        brief_answer_parse(json.dumps({"brief": OTHER_LANGUAGE}), language="en")
    assert not wrong_language("GPT-4o", "zh")  # too short to tell


@pytest.mark.parametrize(
    "text",
    [
        "see https://evil.example/x now",
        "see HTTP://EVIL.EXAMPLE now",
        "see ftp://evil.example/x now",
        "see //evil.example/p now",
        "see www.evil.example now",
        "see evil.example now",
        "see arxiv.org/abs/2606.18831 now",
        "see github.com/org/repo now",
        "see sub.domain.co.uk:8080/x now",
        "see javascript://alert(1) now",
    ],
)
def test_no_link_survives_in_model_text(text):
    assert links_removed(text).split() == ["see", "now"]


def test_model_names_versions_and_abbreviations_are_not_links():
    text = "Qwen2.5 and GPT-4.5 beat v1.2 (e.g. Fig. 3, i.e. node.js, data.py, 3.14)"
    assert links_removed(text) == text


def test_links_and_bidi_controls_leave_every_model_field():
    answer = {
        **GOOD,
        "title": GOOD["title"] + " 详见 https://evil.example/a 与 evil.example",
        "abstract": "//evil.example/p " + GOOD["abstract"] + "\u202e",
        "summary": GOOD["summary"] + " arxiv.org/abs/2606.1 \u2066隔离\u2069",
        "affiliations": ["清华大学 tsinghua.edu.cn", "面壁智能\u200f"],
        "topic_hits": [{"topic": "post-training", "score": 88, "reason": "见 www.evil.example"}],
    }

    reading = _parse(answer)

    texts = [reading.title, reading.abstract, reading.summary, *reading.affiliations]
    texts.append(reading.topic_hits[0].reason)
    for text in texts:
        assert "evil" not in text and "//" not in text and ".org" not in text and ".edu" not in text
        assert not set(text) & {"\u202e", "\u2066", "\u2069", "\u200f"}
    brief = brief_answer_parse(json.dumps({"brief": "今天的论文 [1] 见 example.com/x。"}))
    assert brief == "今天的论文 [1] 见"


def test_bidi_controls_are_removed_from_paper_text():
    assert clean_text("a\u202eb\u2066c\u2069d\u200ee\u200ff\u202ag\u202c") == "abcdefg"
    assert clean_text("x\u200dy") == "x\u200dy"  # a zero-width joiner some scripts need stays


@pytest.fixture
def paper(recorded_arxiv, catalogue):
    day_ingest(categories=["cs.CL"], date=DAY)
    return Paper.objects.get(arxiv_id="2606.18831")


@pytest.mark.django_db
@pytest.mark.parametrize("slip", ["overlong", "unknown_topic", "link"])
def test_a_slip_in_a_real_answer_costs_no_retry_and_keeps_the_reading(paper, llm_stub, slip):
    llm_stub.plan(slip)

    report = papers_enrich(papers=[paper], languages=["zh"], day=DAY)

    assert (report.enriched, llm_stub.chat_calls) == (1, 1)
    reading = Enrichment.objects.get(paper=paper, prompt_version=ENRICH_PROMPT_VERSION)
    assert reading.status == "ok"
    assert reading.title.startswith("超越奖励工程:长上下文强化学习的数据配方")
    assert len(reading.summary) <= LIMITS["summary"]
    assert {hit["topic"] for hit in reading.topic_hits} == {"post-training"}
    assert "evil" not in json.dumps(reading.title + reading.summary)


@pytest.mark.django_db
def test_an_answer_in_the_wrong_language_is_asked_again(paper, llm_stub):
    llm_stub.plan("wrong_language")

    report = papers_enrich(papers=[paper], languages=["en"], day=DAY)

    assert (report.enriched, llm_stub.chat_calls) == (1, 2)
    reading = Enrichment.objects.get(paper=paper, prompt_version=ENRICH_PROMPT_VERSION)
    assert reading.title.startswith("[English] ") and "这是" not in reading.abstract
