"""Structured calls to any OpenAI-compatible server, a bounded number at a time.

The `openai` client retries 429 and 5xx itself, honouring Retry-After, and each call has a
timeout. Here: the JSON answer is parsed and validated; an invalid one is asked again once with
the validation error; a daily token budget is reserved before each call and settled after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai
from django.conf import settings

from digests.llm.answers import AnswerError

__all__ = [
    "CallResult",
    "TokenBudget",
    "chat_json",
    "llm_async_client",
    "llm_client",
    "llm_enabled",
]

log = logging.getLogger(__name__)

CLIENT_RETRIES = 4
MAX_OUTPUT_TOKENS = 2500


def llm_enabled() -> bool:
    return bool(settings.OPENAI_API_KEY)


def _client_options() -> dict[str, Any]:
    """OPENAI_BASE_URL, the key (kept inside the client, never logged), timeout and retries."""
    return {
        "api_key": settings.OPENAI_API_KEY,
        "base_url": settings.OPENAI_BASE_URL or None,
        "timeout": settings.LLM_TIMEOUT,
        "max_retries": CLIENT_RETRIES,
    }


def llm_async_client() -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(**_client_options())


def llm_client() -> openai.OpenAI:
    return openai.OpenAI(**_client_options())


class TokenBudget:
    """What is left of the day's tokens; calls reserve an estimate first, then settle."""

    def __init__(self, remaining: int) -> None:
        self.remaining = remaining
        self.exhausted = False

    def reserve(self, estimate: int) -> bool:
        if estimate > self.remaining:
            self.exhausted = True
            return False
        self.remaining -= estimate
        return True

    def settle(self, estimate: int, actual: int) -> None:
        self.remaining += estimate - actual


@dataclass
class CallResult:
    value: Any = None
    error: str = ""
    budget_spent: bool = False
    unavailable: bool = False  # the server did not answer or was down (after the client's retries)
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0


def _estimate(messages: list[dict[str, str]]) -> int:
    """A generous token estimate: ~3 characters a token in, the output cap out."""
    return sum(len(m["content"]) for m in messages) // 3 + MAX_OUTPUT_TOKENS


def _response_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if settings.LLM_STRUCTURED_OUTPUT == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": True},
        }
    return {"type": "json_object"}


def _is_outage(error: openai.APIError) -> bool:
    """No answer, a timeout, a 5xx or a 429 that outlived the client's own retries."""
    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return True
    status = getattr(error, "status_code", None)
    return status is not None and (status >= 500 or status == 429)


async def chat_json(
    client: openai.AsyncOpenAI,
    *,
    messages: list[dict[str, str]],
    parse: Callable[[str | None], Any],
    schema_name: str,
    schema: dict[str, Any],
    budget: TokenBudget,
    semaphore: asyncio.Semaphore,
) -> CallResult:
    """One structured answer: at most two calls (the second with the validation error)."""
    result = CallResult()
    conversation: list[Any] = list(messages)  # the SDK's message TypedDicts, as plain dicts
    for attempt in (1, 2):
        estimate = _estimate(conversation)
        if not budget.reserve(estimate):
            result.budget_spent = True
            result.error = "daily token budget spent"
            return result
        try:
            async with semaphore:
                response = await client.chat.completions.create(  # type: ignore[call-overload]
                    model=settings.LLM_MODEL,
                    messages=conversation,
                    response_format=_response_format(schema_name, schema),
                    max_tokens=MAX_OUTPUT_TOKENS,
                    temperature=0.2,
                )
        except openai.APIError as error:
            budget.settle(estimate, 0)
            result.error = f"{type(error).__name__}: {getattr(error, 'message', error)}"
            result.unavailable = _is_outage(error)
            return result
        usage = response.usage
        used_in = usage.prompt_tokens if usage else 0
        used_out = usage.completion_tokens if usage else 0
        budget.settle(estimate, used_in + used_out)
        result.tokens_in += used_in
        result.tokens_out += used_out
        result.calls += 1
        content = response.choices[0].message.content if response.choices else None
        try:
            result.value = parse(content)
            result.error = ""
            return result
        except AnswerError as error:
            result.error = str(error)
            log.warning("invalid LLM answer (try %d): %s", attempt, error)
            conversation = [
                *messages,
                {"role": "assistant", "content": (content or "")[:4000]},
                {
                    "role": "user",
                    "content": f"Your answer was invalid: {error}. "
                    "Answer again with only the JSON object.",
                },
            ]
    return result
