"""The reason shown is what scored: every signal with a fair share, named, in the reader's
language; with an LLM reading, the topic hit is followed by the model's why."""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import translation

from digests.ranking import reasons_for
from digests.readings import Reading
from digests.render import item_reasons
from digests.scoring.paper_index import PaperIndex
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.scores import Shares
from digests.scoring.signals import Signal
from tests.factories import make_digest_item, make_enrichment, make_topic

PAPER = PaperRow(
    id=1,
    title="Causal discovery at scale",
    abstract="We study causal discovery with large models.",
    authors=["Ada Lovelace", "Alan Turing"],
    affiliations=["Department of CS, Tsinghua University"],
    categories=["cs.LG", "stat.ML"],
    topic_hits={"causality": 80.0},
)


def _shares(**points: float) -> Shares:
    column = np.zeros((len(Signal), 1))
    for name, value in points.items():
        column[Signal[name], 0] = value
    return Shares(column)


def _reasons(shares: Shares, profile: ProfileRow, language: str = "en") -> list[str]:
    index = PaperIndex([PAPER], [profile], semantic="none")
    with translation.override(language):
        reasons, _topic, _interest = reasons_for(
            shares=shares,
            index=index,
            position=0,
            profile=profile,
            parents={},
            topic_names={"causality": "Causality"},
        )
    return reasons


def test_an_author_keyword_and_institution_reader_gets_each_reason():
    reader = ProfileRow(
        id=1,
        authors=["Ada Lovelace"],
        keywords=["causal discovery"],
        institutions=["Tsinghua University"],
        categories=["cs.LG"],
    )
    shares = _shares(AUTHOR=50, KEYWORD=25, INSTITUTION=20, CATEGORY=4)

    assert _reasons(shares, reader) == [
        "author you follow: Ada Lovelace",
        "keyword: causal discovery",
        "from Tsinghua University, an institution you follow",
    ]
    assert _reasons(shares, reader, "zh-hans") == [
        "关注的作者：Ada Lovelace",
        "关键词：causal discovery",
        "来自您关注的机构：Tsinghua University",
    ]


def test_a_small_share_is_not_named_and_categories_only_when_nothing_else_scored():
    reader = ProfileRow(id=1, authors=["Ada Lovelace"], keywords=["causal discovery"])
    assert _reasons(_shares(AUTHOR=90, KEYWORD=5, CATEGORY=3), reader) == [
        "author you follow: Ada Lovelace"
    ]
    assert _reasons(_shares(CATEGORY=12), ProfileRow(id=1, categories=["stat.ML"])) == [
        "category: stat.ML"
    ]


def test_close_to_names_the_interests_or_the_seed_paper_that_is_true():
    interests = ProfileRow(id=1, interests="causal discovery with large models")
    assert _reasons(_shares(TEXT=40), interests) == ["close to your interests"]
    seed = ProfileRow(id=1, seed_texts=["Causal graphs\nWe learn causal graphs."])
    assert _reasons(_shares(SEMANTIC=30, TEXT=10), seed) == [
        "close to your seed paper «Causal graphs»"
    ]
    both = ProfileRow(
        id=1,
        interests="protein folding",
        seed_texts=["Causal discovery at scale\nWe study causal discovery with large models."],
    )
    assert _reasons(_shares(TEXT=30), both) == [
        "close to your seed paper «Causal discovery at scale»"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("llm_hits", "in_language", "expected"),
    [
        # the LLM's why for the topic that scored, never the label twice
        (
            [{"topic": "post-training", "score": 90, "reason": "a new GRPO objective"}],
            True,
            ["keyword: GRPO", "topic hit: Post-training — a new GRPO objective"],
        ),
        # an unknown topic in the answer: the stored reasons stay as they are
        (
            [{"topic": "no-such-topic", "score": 99, "reason": "made up"}],
            True,
            ["keyword: GRPO", "topic hit: Post-training"],
        ),
        # a reading in another language (a stand-in) does not lend its why
        (
            [{"topic": "post-training", "score": 90, "reason": "新目标"}],
            False,
            ["keyword: GRPO", "topic hit: Post-training"],
        ),
    ],
)
def test_with_an_llm_reading_the_reasons_that_scored_stay(llm_hits, in_language, expected):
    topic = make_topic(slug="post-training", names={"en": "Post-training", "zh": "后训练"})
    item = make_digest_item(reason="keyword: GRPO\ntopic hit: Post-training", topic=topic)
    llm = make_enrichment(paper=item.paper, language="en", topic_hits=llm_hits)
    reading = Reading(llm=llm, lexical=None, in_language=in_language)

    with translation.override("en"):
        assert list(item_reasons(item, reading, "en")) == expected


@pytest.mark.django_db
def test_llm_less_the_topic_hit_reads_once_with_the_words_found():
    topic = make_topic(slug="post-training", names={"en": "Post-training", "zh": "后训练"})
    item = make_digest_item(reason="topic hit: Post-training", topic=topic)
    lexical = make_enrichment(
        paper=item.paper,
        language="",
        topic_hits=[{"topic": "post-training", "score": 60, "reason": "GRPO, RLHF"}],
    )
    reading = Reading(llm=None, lexical=lexical, in_language=False)

    with translation.override("en"):
        reasons = item_reasons(item, reading, "en")

    assert reasons == ("topic hit: Post-training — words found: GRPO, RLHF",)
