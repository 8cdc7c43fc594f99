"""The local OpenAI-compatible stub, driven through the real `openai` client."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest

from devtools.llm_stub import (
    HOSTILE_TEXT,
    OTHER_LANGUAGE,
    OVERLONG_TOPIC,
    UNKNOWN_TOPIC,
    LLMStub,
    canned_from_recorded,
    llm_stub_start,
)
from digests.llm.prompts import brief_messages, enrich_messages

DEMO_DAY = Path(__file__).resolve().parents[2] / "devtools" / "recorded" / "2026-06-18"
TITLE = "Beyond Reward Engineering: A Data Recipe for Long-Context Reinforcement Learning"
ABSTRACT = (
    "Long-context reasoning is a key capability of large language models. Reinforcement "
    "learning has recently become the main paradigm for improving it."
)
TOPICS = [
    {
        "slug": "post-training",
        "name": "Post-training",
        "description": "Reinforcement learning and fine-tuning of language models",
    },
    {"slug": "robotics", "name": "Robotics", "description": "Manipulation, locomotion, grasping"},
]
ENRICH_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "abstract", "summary", "affiliations", "topic_hits"],
    "properties": {
        "title": {"type": "string"},
        "abstract": {"type": "string"},
        "summary": {"type": "string"},
        "affiliations": {"type": "array", "items": {"type": "string"}},
        "topic_hits": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["topic", "score", "reason"],
                "properties": {
                    "topic": {"type": "string"},
                    "score": {"type": "integer"},
                    "reason": {"type": "string"},
                },
            },
        },
    },
}
JSON_SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "enrichment", "strict": True, "schema": ENRICH_SCHEMA},
}


@pytest.fixture
def stub() -> Iterator[LLMStub]:
    server = llm_stub_start()
    yield server
    server.stop()


def client_for(stub: LLMStub, *, max_retries: int = 0, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=stub.base_url, api_key="test-key", max_retries=max_retries, timeout=timeout
    )


def enrich(
    client: openai.OpenAI,
    *,
    title: str = TITLE,
    abstract: str = ABSTRACT,
    topics: list[dict[str, str]] | None = None,
    response_format: dict[str, Any] | None = None,
    language: str = "zh",
) -> str:
    messages = enrich_messages(
        title=title,
        abstract=abstract,
        affiliations=["Tsinghua University", "OpenBMB"],
        language=language,
        topics=TOPICS if topics is None else topics,
    )
    completion = client.chat.completions.create(
        model="stub-model",
        messages=messages,  # type: ignore[arg-type]
        response_format=response_format or JSON_SCHEMA,  # type: ignore[arg-type]
    )
    assert completion.choices[0].finish_reason == "stop"
    return completion.choices[0].message.content or ""


def test_a_good_enrich_answer_is_json_with_every_field(stub):
    answer = json.loads(enrich(client_for(stub)))

    assert answer["title"] == f"[简体中文] {TITLE}"
    assert answer["abstract"] == f"[简体中文] {ABSTRACT}"
    assert answer["summary"] == (
        "[简体中文] Long-context reasoning is a key capability of large language models."
    )
    assert answer["affiliations"] == [
        "[简体中文] Tsinghua University",
        "[简体中文] OpenBMB",
    ]
    assert stub.chat_calls == 1


def test_the_response_has_openai_shape_and_usage(stub):
    completion = client_for(stub).chat.completions.create(
        model="stub-model",
        messages=enrich_messages(  # type: ignore[arg-type]
            title=TITLE, abstract=ABSTRACT, affiliations=[], language="zh", topics=TOPICS
        ),
    )

    assert completion.object == "chat.completion"
    assert completion.model == "stub-model"
    assert completion.choices[0].message.role == "assistant"
    usage = completion.usage
    assert usage is not None
    assert usage.completion_tokens == len(completion.choices[0].message.content or "") // 4 + 1
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_topic_hits_only_name_the_topics_given(stub):
    answer = json.loads(enrich(client_for(stub)))

    assert [hit["topic"] for hit in answer["topic_hits"]] == ["post-training"]
    (hit,) = answer["topic_hits"]
    assert 60 <= hit["score"] <= 95
    assert hit["reason"] == "[简体中文] matches Reinforcement"


def test_the_fake_answer_is_deterministic(stub):
    client = client_for(stub)

    assert enrich(client) == enrich(client)


@pytest.mark.parametrize(
    "response_format", [JSON_SCHEMA, {"type": "json_object"}], ids=["json_schema", "json_object"]
)
def test_both_json_response_formats_work(stub, response_format):
    answer = json.loads(enrich(client_for(stub), response_format=response_format))

    assert set(answer) == {"title", "abstract", "summary", "affiliations", "topic_hits"}
    assert stub.requests[-1]["body"]["response_format"] == response_format


def test_a_schema_without_a_name_is_refused_as_openai_would(stub):
    nameless = {"type": "json_schema", "json_schema": {"schema": ENRICH_SCHEMA}}

    with pytest.raises(openai.BadRequestError, match=r"json_schema\.name"):
        enrich(client_for(stub), response_format=nameless)


def test_a_canned_answer_comes_from_the_recording():
    recorded = json.loads((DEMO_DAY / "enrichments.zh.json").read_text("utf-8"))["2606.18831"]
    canned = canned_from_recorded(DEMO_DAY, topic_slugs_by_name={"后训练": "post-training"})
    stub = llm_stub_start(canned=canned)
    try:
        answer = json.loads(enrich(client_for(stub)))
    finally:
        stub.stop()

    assert answer["title"] == recorded["title"] == "超越奖励工程:长上下文强化学习的数据配方"
    assert answer["summary"] == recorded["summary"]
    assert answer["topic_hits"] == [
        {"topic": "post-training", "score": 85, "reason": recorded["topic_hits"][0]["reason"]}
    ]


def test_a_recorded_chinese_answer_is_not_given_to_an_english_request():
    canned = canned_from_recorded(DEMO_DAY, topic_slugs_by_name={"后训练": "post-training"})
    stub = llm_stub_start(canned=canned)
    try:
        english = json.loads(enrich(client_for(stub), language="en"))
        japanese = json.loads(enrich(client_for(stub), language="ja"))
    finally:
        stub.stop()

    assert english["title"] == f"[English] {TITLE}"
    assert english["summary"].startswith("[English] Long-context reasoning")
    assert japanese["title"] == f"[日本語] {TITLE}"


def test_planned_slips_spoil_one_thing_in_an_otherwise_good_answer(stub):
    client = client_for(stub)
    for kind in ("overlong", "unknown_topic", "link", "wrong_language"):
        stub.plan(kind)
    overlong, unknown, link, wrong = (json.loads(enrich(client)) for _ in range(4))
    good = json.loads(enrich(client))

    assert len(overlong["summary"]) > 2000 and overlong["title"] == good["title"]
    assert OVERLONG_TOPIC in [hit["topic"] for hit in overlong["topic_hits"]]
    assert len(OVERLONG_TOPIC) > 100
    assert [h["topic"] for h in unknown["topic_hits"]] == [
        *[h["topic"] for h in good["topic_hits"]],
        UNKNOWN_TOPIC,
    ]
    assert link["title"].startswith(good["title"]) and "https://evil.example/x" in link["title"]
    assert "//evil.example/p" in link["title"] and "www.evil.example" in link["summary"]
    assert wrong["title"] == TITLE  # asked for Chinese, answered in English
    stub.plan("wrong_language")
    assert json.loads(enrich(client, language="en"))["summary"] == OTHER_LANGUAGE


def test_recorded_topics_with_unknown_names_are_dropped():
    canned = canned_from_recorded(DEMO_DAY, topic_slugs_by_name={})

    assert len(canned) == 22
    assert all(answer["topic_hits"] == [] for answer in canned.values())


def test_a_brief_cites_papers_by_number(stub):
    papers = [
        {"n": "1", "title": TITLE, "summary": "A data recipe for long-context RL."},
        {"n": "2", "title": "DiPOD", "summary": "Stable diffusion policy optimization."},
    ]
    messages = brief_messages(topic_name="Post-training", language="zh", papers=papers)

    completion = client_for(stub).chat.completions.create(
        model="stub-model",
        messages=messages,  # type: ignore[arg-type]
        response_format={"type": "json_object"},
    )

    brief = json.loads(completion.choices[0].message.content or "")["brief"]
    assert brief.startswith("[简体中文] 2 new paper(s) on Post-training today.")
    assert "[1] A data recipe for long-context RL." in brief
    assert "[2] Stable diffusion policy optimization." in brief


def test_planned_bad_answers_come_in_order_then_good_ones_again(stub):
    client = client_for(stub)
    stub.plan("malformed")
    stub.plan("invalid")
    stub.plan("hostile")

    malformed, invalid, hostile, good = (enrich(client) for _ in range(4))

    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed)
    assert "summary" not in json.loads(invalid)
    assert not isinstance(json.loads(invalid)["title"], str)
    hostile_answer = json.loads(hostile)
    assert HOSTILE_TEXT in hostile_answer["summary"]
    assert "<script>alert(1)</script>" in hostile_answer["title"]
    assert {"topic": "not-a-topic", "score": 250, "reason": f"[简体中文] {HOSTILE_TEXT}"} in (
        hostile_answer["topic_hits"]
    )
    assert json.loads(good)["title"] == f"[简体中文] {TITLE}"


def test_a_planned_429_raises_rate_limit_error_with_retry_after(stub):
    stub.plan("status", status=429, retry_after=1)

    with pytest.raises(openai.RateLimitError) as raised:
        enrich(client_for(stub))

    assert raised.value.response.headers["Retry-After"] == "1"
    assert raised.value.code == "rate_limit_exceeded"


def test_a_planned_500_raises_internal_server_error(stub):
    stub.plan("status", status=500)

    with pytest.raises(openai.InternalServerError):
        enrich(client_for(stub))


def test_one_retry_gets_past_a_500(stub):
    # a tiny Retry-After keeps the client's backoff short
    stub.plan("status", status=500, retry_after=0.01)

    answer = json.loads(enrich(client_for(stub, max_retries=1)))

    assert answer["title"] == f"[简体中文] {TITLE}"
    assert stub.chat_calls == 2
    assert [r["headers"]["x-stainless-retry-count"] for r in stub.requests] == ["0", "1"]


def test_a_hang_longer_than_the_timeout_raises_a_timeout(stub):
    stub.plan("hang", seconds=5)

    with pytest.raises(openai.APITimeoutError):
        enrich(client_for(stub, timeout=0.5))


def test_embeddings_of_similar_texts_are_closer_and_of_unit_norm(stub):
    texts = [
        "Reinforcement learning for long-context reasoning in language models",
        "Long-context reasoning of language models trained with reinforcement learning",
        "Grasping and locomotion for legged robots in cluttered kitchens",
    ]

    response = client_for(stub).embeddings.create(model="stub-embed", input=texts)

    first, similar, unrelated = (item.embedding for item in response.data)
    assert [item.index for item in response.data] == [0, 1, 2]
    assert all(len(vector) == 64 for vector in (first, similar, unrelated))
    assert all(math.isclose(math.hypot(*v), 1.0, rel_tol=1e-5) for v in (first, similar, unrelated))
    cosine = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731
    assert cosine(first, similar) > cosine(first, unrelated)
    assert stub.embedding_calls == 1


def test_float_embeddings_match_the_default_base64_ones(stub):
    client = client_for(stub)

    as_floats = client.embeddings.create(model="m", input="one text", encoding_format="float")
    as_default = client.embeddings.create(model="m", input="one text")

    assert stub.requests[1]["body"]["encoding_format"] == "base64"
    assert as_floats.data[0].embedding == pytest.approx(as_default.data[0].embedding, rel=1e-6)


def test_a_wrong_api_key_is_refused():
    stub = llm_stub_start(api_key="the-right-key")
    try:
        with pytest.raises(openai.AuthenticationError):
            enrich(client_for(stub))
        seen = stub.requests[0]
    finally:
        stub.stop()

    assert seen["has_authorization"] is True
    assert "test-key" not in json.dumps(seen)


def test_four_concurrent_calls_are_handled_at_once(stub):
    stub.plan("hang", seconds=0.3, times=4)
    client = client_for(stub)

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: enrich(client), range(4)))

    assert stub.max_concurrent == 4
    assert len(answers) == 4
