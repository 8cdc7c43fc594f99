"""What the model must answer, validated field by field: model output is untrusted text.

A bad field is dropped or cut, never the whole reading: an over-long field is truncated, a
field of the wrong type or in the wrong language dropped, a topic hit that is malformed or names
a topic not in the catalogue dropped, scores clamped. From every text the model wrote (title,
abstract, summary, reasons, affiliations, brief) control and bidi characters are removed and
every link: URLs of any scheme, `//host`, `www.…` and bare domains (`example.com`,
`arxiv.org/abs/…`). What remains is plain text that templates escape. Only an answer that is not
JSON, not an object, or left with no title, abstract or summary at all is invalid (and asked
again once).
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
    "links_removed",
    "wrong_language",
]

MAX_TOPIC_HITS = 3
LIMITS = {"title": 500, "abstract": 8000, "summary": 400, "reason": 200, "affiliation": 200}
BRIEF_LIMIT = 1200
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# Top-level domains a model would write in a link; not "md", "py", "js" (file names), nor
# one-letter or numeric endings (model names like "Qwen2.5", "e.g.").
_TLDS = (
    "com|org|net|edu|gov|mil|int|io|ai|dev|app|info|biz|xyz|me|co|cn|uk|de|fr|jp|kr|ru|in|us|"
    "ca|au|nl|ch|eu|it|es|se|no|fi|dk|pl|be|at|br|hk|tw|sg|il|ly|gl|gg|to|tv|cc|site|online|top|"
    "link|page|science|tech|ac|example|test|invalid|localhost|onion|shop|club|live|news|cloud"
)
_URL = re.compile(
    r"(?i)(?:\b[a-z][a-z0-9+.-]{1,15}://|(?<![\w/])//(?=[\w-])|\bwww\.)\S+"  # scheme, //host, www.
    r"|\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + _TLDS + r")\b(?::\d+)?(?:/\S*)?"
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")
_CJK_LANGUAGES = ("zh", "ja", "ko")


class AnswerError(ValueError):
    """The model's answer is not the JSON we asked for; the message says why."""


def links_removed(text: str) -> str:
    """The text without anything a mail client or browser could turn into a link."""
    return _URL.sub("", text)


def _plain(text: str, limit: int) -> str:
    text = links_removed(_CONTROL.sub("", text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def wrong_language(text: str, language: str) -> bool:
    """Cheaply, whether a text of some length is plainly not in `language`: no CJK character in
    a Chinese, Japanese or Korean text, or mostly CJK characters in any other language."""
    letters = len(_LETTER.findall(text))
    if not language or letters < 20:
        return False
    cjk = len(_CJK.findall(text))
    if language.lower().split("-")[0] in _CJK_LANGUAGES:
        return cjk == 0
    return cjk > 0.3 * letters


def _string(value: Any) -> str:
    """A string field as given, or "" (dropped) when the model put something else there."""
    return value if isinstance(value, str) else ""


class TopicHit(BaseModel):
    model_config = ConfigDict(extra="ignore")

    topic: str
    score: float
    reason: str = ""

    @field_validator("reason", mode="before")
    @classmethod
    def _reason_text(cls, value: Any) -> str:
        return _string(value)


class EnrichAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = ""
    abstract: str = ""
    summary: str = ""
    affiliations: list[str] = Field(default_factory=list)
    topic_hits: list[TopicHit] = Field(default_factory=list)

    @field_validator("title", "abstract", "summary", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return _string(value)

    @field_validator("affiliations", mode="before")
    @classmethod
    def _strings_only(cls, value: Any) -> list[str]:
        # A bad item becomes "": the translations stay paired with the originals by position.
        return [_string(v) for v in value] if isinstance(value, list) else []

    @field_validator("topic_hits", mode="before")
    @classmethod
    def _valid_hits(cls, value: Any) -> list[TopicHit]:
        hits = []
        for item in value if isinstance(value, list) else []:
            try:
                hits.append(TopicHit.model_validate(item))
            except ValidationError:
                continue  # one malformed hit is dropped, the others kept
        return hits


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


def _text_field(value: str, limit: int, language: str) -> str:
    text = _plain(value, limit)
    return "" if wrong_language(text, language) else text


def enrich_answer_parse(
    content: str | None, *, known_topics: set[str], affiliation_count: int, language: str = ""
) -> EnrichAnswer:
    """Parse and clean one enrichment answer field by field (see the module doc); raise
    AnswerError only when it is not a JSON object or has no usable text at all."""
    answer: EnrichAnswer = _load(content, EnrichAnswer)
    hits: dict[str, TopicHit] = {}
    for hit in answer.topic_hits:
        if hit.topic not in known_topics or hit.topic in hits or hit.score != hit.score:  # NaN
            continue
        reason = _text_field(hit.reason, LIMITS["reason"], language)
        hits[hit.topic] = TopicHit(
            topic=hit.topic, score=round(max(0.0, min(100.0, hit.score))), reason=reason
        )
    ranked = sorted(hits.values(), key=lambda h: -h.score)[:MAX_TOPIC_HITS]
    cleaned = EnrichAnswer(
        title=_text_field(answer.title, LIMITS["title"], language),
        abstract=_text_field(answer.abstract, LIMITS["abstract"], language),
        summary=_text_field(answer.summary, LIMITS["summary"], language),
        affiliations=[
            _plain(a, LIMITS["affiliation"]) for a in answer.affiliations[:affiliation_count]
        ],
        topic_hits=ranked,
    )
    if not (cleaned.title or cleaned.abstract or cleaned.summary):
        raise AnswerError(
            "the answer has no usable title, abstract or summary (missing, not text, or not in "
            "the target language)"
        )
    return cleaned


def brief_answer_parse(content: str | None, *, language: str = "") -> str:
    """Parse one brief answer into plain text, or raise AnswerError."""
    answer: BriefAnswer = _load(content, BriefAnswer)
    text = _plain(answer.brief, BRIEF_LIMIT)
    if not text:
        raise AnswerError("the brief is empty once cleaned")
    if wrong_language(text, language):
        raise AnswerError("the brief is not in the target language")
    return text
