"""Structured calls to any OpenAI-compatible server, a bounded number at a time.

Retries are ours, not the `openai` client's, so that a timeout costs less than a 5xx: 429 and
5xx (and a refused connection) are tried again up to CLIENT_RETRIES times with backoff,
honouring Retry-After; a timeout once (TIMEOUT_RETRIES). Every try first asks the day's gate
(`breaker.py`: one circuit breaker and the reading deadline), and every outcome is told to it.
The JSON answer is parsed and validated; an invalid one is asked again once with the
validation error; a daily token budget is reserved before each call and settled after.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai
from django.conf import settings

from digests.llm.answers import AnswerError
from digests.llm.breaker import DayGate, LLMUnavailable, llm_gate

__all__ = [
    "CallResult",
    "TokenBudget",
    "chat_json",
    "embeddings_create",
    "llm_async_client",
    "llm_client",
    "llm_enabled",
]

log = logging.getLogger(__name__)

CLIENT_RETRIES = 4  # tries again after a 429, a 5xx or a refused connection
TIMEOUT_RETRIES = 1  # tries again after a timeout: a hanging server costs two timeouts, not five
RETRY_WAIT_MAX = 8.0  # seconds, as the openai client's own backoff
RETRY_AFTER_MAX = 60.0  # a longer Retry-After is not waited for: the call fails
MAX_OUTPUT_TOKENS = 2500


def llm_enabled() -> bool:
    return bool(settings.OPENAI_API_KEY)


def _client_options() -> dict[str, Any]:
    """OPENAI_BASE_URL, the key (kept inside the client, never logged), timeout and retries."""
    return {
        "api_key": settings.OPENAI_API_KEY,
        "base_url": settings.OPENAI_BASE_URL or None,
        "timeout": settings.LLM_TIMEOUT,
        "max_retries": 0,  # ours: see `_retry_wait`
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


def _is_outage(error: BaseException) -> bool:
    """No answer, a timeout, a 5xx or a 429: the server's trouble, not our request's."""
    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return True
    status = getattr(error, "status_code", None)
    return status is not None and (status >= 500 or status == 429)


def _retry_wait(error: BaseException, *, timeouts: int, failures: int) -> float | None:
    """Seconds to wait before trying again after `error`, or None: give up.

    `timeouts` and `failures` count the tries so far that timed out / failed otherwise."""
    if isinstance(error, openai.APITimeoutError):
        return 0.0 if timeouts <= TIMEOUT_RETRIES else None
    if not _is_outage(error) or failures > CLIENT_RETRIES:
        return None
    response = getattr(error, "response", None)
    after = response.headers.get("retry-after") if response is not None else None
    if after is not None:
        try:
            seconds = float(after)
        except ValueError:
            seconds = -1.0
        if 0 <= seconds <= RETRY_AFTER_MAX:
            return seconds
        if seconds > RETRY_AFTER_MAX:
            return None
    return min(RETRY_WAIT_MAX, 0.5 * 2 ** (failures - 1)) * (1 - 0.25 * random.random())


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {getattr(error, 'message', error)}"


async def _create_with_retries(
    client: openai.AsyncOpenAI, gate: DayGate, kwargs: dict[str, Any]
) -> Any:
    """One chat completion, tried again as `_retry_wait` says; the gate asked before each try."""
    timeouts = failures = 0
    while True:
        gate.check()
        try:
            response = await client.chat.completions.create(**kwargs, timeout=gate.call_timeout())
        except openai.APIError as error:
            if isinstance(error, openai.APITimeoutError):
                timeouts += 1
            else:
                failures += 1
            wait = _retry_wait(error, timeouts=timeouts, failures=failures)
            if wait is None:
                if _is_outage(error):
                    gate.failure(_error_text(error))
                raise
            log.warning("LLM call failed (%s), trying again in %.1f s", _error_text(error), wait)
            await asyncio.sleep(wait)
            continue
        gate.success()
        return response


def embeddings_create(client: openai.OpenAI, *, model: str, texts: list[str], gate: DayGate) -> Any:
    """One embeddings request, with the same retries and gate as a chat call (synchronous)."""
    timeouts = failures = 0
    while True:
        gate.check()
        try:
            response = client.embeddings.create(
                model=model, input=texts, timeout=gate.call_timeout()
            )
        except openai.APIError as error:
            if isinstance(error, openai.APITimeoutError):
                timeouts += 1
            else:
                failures += 1
            wait = _retry_wait(error, timeouts=timeouts, failures=failures)
            if wait is None:
                if _is_outage(error):
                    gate.failure(_error_text(error))
                raise
            time.sleep(wait)
            continue
        gate.success()
        return response


async def chat_json(
    client: openai.AsyncOpenAI,
    *,
    messages: list[dict[str, str]],
    parse: Callable[[str | None], Any],
    schema_name: str,
    schema: dict[str, Any],
    budget: TokenBudget,
    semaphore: asyncio.Semaphore,
    gate: DayGate | None = None,
) -> CallResult:
    """One structured answer: at most two calls (the second with the validation error).

    A closed gate (breaker open, deadline passed) makes no call: the result says why."""
    gate = gate or llm_gate()
    result = CallResult()
    conversation: list[Any] = list(messages)  # the SDK's message TypedDicts, as plain dicts
    for attempt in (1, 2):
        estimate = _estimate(conversation)
        if not budget.reserve(estimate):
            result.budget_spent = True
            result.error = "daily token budget spent"
            return result
        request = {
            "model": settings.LLM_MODEL,
            "messages": conversation,
            "response_format": _response_format(schema_name, schema),
            "max_tokens": MAX_OUTPUT_TOKENS,
            "temperature": 0.2,
        }
        try:
            async with semaphore:  # the gate is asked once a slot is free, not while queued
                response = await _create_with_retries(client, gate, request)
        except LLMUnavailable as closed:
            budget.settle(estimate, 0)
            result.error = f"not tried: {closed}"
            result.unavailable = True
            return result
        except openai.APIError as error:
            budget.settle(estimate, 0)
            result.error = _error_text(error)
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
