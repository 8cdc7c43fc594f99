"""What the model must answer, validated: model output is untrusted text.

Unknown topic slugs are dropped, scores clamped, lengths bounded, control characters removed,
and links taken out of the model's own sentences (summary, reasons, brief). Whatever remains is
plain text that templates escape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "AnswerError",
    "BriefAnswer",
    "EnrichAnswer",
    "TopicHit",
    "brief_answer_parse",
    "enrich_answer_parse",
    "json_schema",
]

MAX_TOPIC_HITS = 3
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069]")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")


class AnswerError(ValueError):
    """The model's answer is not the JSON we asked for; the message says why."""


def _plain(text: str, limit: int, *, links: bool = True) -> str:
    text = _CONTROL.sub("", text)
    if not links:
        text = _URL.sub("", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class TopicHit(BaseModel):
    model_config = ConfigDict(extra="ignore")

    topic: str = Field(max_length=100)
    score: float
    reason: str = ""


class EnrichAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1)
    abstract: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    affiliations: list[str] = Field(default_factory=list)
    topic_hits: list[TopicHit] = Field(default_factory=list)

    @field_validator("affiliations", mode="before")
    @classmethod
    def _strings_only(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
        return value


class BriefAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    brief: str = Field(min_length=1)


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A strict JSON schema for `response_format`, built by hand to stay server-neutral."""
    string = {"type": "string"}
    if model is BriefAnswer:
        properties: dict[str, Any] = {"brief": string}
    else:
        hit = {
            "type": "object",
            "properties": {"topic": string, "score": {"type": "integer"}, "reason": string},
            "required": ["topic", "score", "reason"],
            "additionalProperties": False,
        }
        properties = {
            "title": string,
            "abstract": string,
            "summary": string,
            "affiliations": {"type": "array", "items": string},
            "topic_hits": {"type": "array", "items": hit},
        }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _load(content: str | None, model: type[BaseModel]) -> Any:
    if not content:
        raise AnswerError("the answer is empty")
    text = content.strip()
    if text.startswith("```"):  # some servers wrap JSON mode answers in a code fence
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise AnswerError(f"the answer is not JSON: {error.msg} at char {error.pos}") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in error.errors()
        )
        raise AnswerError(f"the answer does not match the schema: {problems}") from None


def enrich_answer_parse(
    content: str | None, *, known_topics: set[str], affiliation_count: int
) -> EnrichAnswer:
    """Parse, validate and clean one enrichment answer, or raise AnswerError."""
    answer: EnrichAnswer = _load(content, EnrichAnswer)
    hits: dict[str, TopicHit] = {}
    for hit in answer.topic_hits:
        if hit.topic not in known_topics or hit.topic in hits:
            continue
        hits[hit.topic] = TopicHit(
            topic=hit.topic,
            score=max(0, min(100, round(hit.score))),
            reason=_plain(hit.reason, 200, links=False),
        )
    ranked = sorted(hits.values(), key=lambda h: -h.score)[:MAX_TOPIC_HITS]
    cleaned = EnrichAnswer(
        title=_plain(answer.title, 500),
        abstract=_plain(answer.abstract, 8000),
        summary=_plain(answer.summary, 400, links=False),
        affiliations=[_plain(a, 200) for a in answer.affiliations[:affiliation_count]],
        topic_hits=ranked,
    )
    if not cleaned.title or not cleaned.summary:
        raise AnswerError("the answer's title or summary is empty once cleaned")
    return cleaned


def brief_answer_parse(content: str | None) -> str:
    """Parse one brief answer into plain text, or raise AnswerError."""
    answer: BriefAnswer = _load(content, BriefAnswer)
    text = _plain(answer.brief, 1200, links=False)
    if not text:
        raise AnswerError("the brief is empty once cleaned")
    return text
