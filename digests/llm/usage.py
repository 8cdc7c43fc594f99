"""LLM spending: every call's tokens and estimated cost, per day, model and purpose."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Sum
from django.db.models.functions import Coalesce

from digests.models import LLMUsage

__all__ = ["tokens_cost", "tokens_spent", "usage_record"]


def tokens_cost(tokens_in: int, tokens_out: int) -> Decimal:
    """Estimated cost in USD at the configured prices per million tokens."""
    cost = tokens_in * settings.LLM_PRICE_INPUT + tokens_out * settings.LLM_PRICE_OUTPUT
    return Decimal(str(round(cost / 1_000_000, 6)))


def usage_record(
    *, day: dt.date, model: str, purpose: str, tokens_in: int, tokens_out: int, calls: int = 1
) -> None:
    """Add one or more calls to the day's row, atomically (workers may record at once)."""
    row, _ = LLMUsage.objects.get_or_create(day=day, model=model, purpose=purpose)
    LLMUsage.objects.filter(pk=row.pk).update(
        calls=F("calls") + calls,
        tokens_in=F("tokens_in") + tokens_in,
        tokens_out=F("tokens_out") + tokens_out,
        cost=F("cost") + tokens_cost(tokens_in, tokens_out),
    )


def tokens_spent(day: dt.date) -> int:
    """Tokens used on `day`, all models and purposes together."""
    totals = LLMUsage.objects.filter(day=day).aggregate(
        spent=Coalesce(Sum(F("tokens_in") + F("tokens_out")), 0)
    )
    return int(totals["spent"])
