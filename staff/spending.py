"""LLM spending for staff: tokens and estimated cost per day, model and purpose, against the budget.

"The budget ran out before the day's papers were enriched" has one precise meaning here: some
paper of that day has a reading (current version, some language) whose status is still
`skipped`, and no `ok` reading of that same version and language exists under any prompt
version. The enrich step writes `skipped` exactly when `TokenBudget.reserve` refused the call
(`CallResult.budget_spent`); a later run that succeeds overwrites it with `ok`, and the warning
goes away because the papers are then enriched.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef
from django.utils import timezone

from digests.models import Enrichment, LLMUsage

__all__ = [
    "Spending",
    "SpendingDay",
    "UsageTotals",
    "budget_shortfalls",
    "spending_default_end",
    "spending_window",
]


@dataclass(kw_only=True)
class UsageTotals:
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: Decimal = Decimal(0)

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    def add(self, *, calls: int, tokens_in: int, tokens_out: int, cost: Decimal) -> None:
        self.calls += calls
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out
        self.cost += cost


@dataclass(kw_only=True)
class SpendingDay:
    day: dt.date
    budget: int
    totals: UsageTotals = field(default_factory=UsageTotals)
    by_purpose: dict[str, int] = field(default_factory=dict)  # tokens (in + out)
    skipped_readings: int = 0  # readings still skipped for the budget (see the module's doc)
    skipped_papers: int = 0

    @property
    def budget_share(self) -> float:
        """Tokens used as a fraction of the budget (1.0 = all of it)."""
        return self.totals.tokens / self.budget if self.budget else 0.0

    @property
    def budget_ran_out(self) -> bool:
        return self.skipped_readings > 0


@dataclass(kw_only=True)
class Spending:
    days: list[SpendingDay]  # every calendar day of the window, oldest first
    by_model_purpose: dict[tuple[str, str], UsageTotals]
    budget: int

    @property
    def totals(self) -> UsageTotals:
        total = UsageTotals()
        for day in self.days:
            total.add(
                calls=day.totals.calls,
                tokens_in=day.totals.tokens_in,
                tokens_out=day.totals.tokens_out,
                cost=day.totals.cost,
            )
        return total

    @property
    def warnings(self) -> list[SpendingDay]:
        return [day for day in self.days if day.budget_ran_out]


def spending_default_end() -> dt.date:
    """The last day anything was spent, else today."""
    return LLMUsage.objects.aggregate(last=Max("day"))["last"] or timezone.localdate()


def budget_shortfalls(*, start: dt.date, end: dt.date) -> dict[dt.date, tuple[int, int]]:
    """Per announcement day: (readings, papers) left unenriched because the budget ran out."""
    enriched_since = Enrichment.objects.filter(
        paper=OuterRef("paper"),
        paper_version=OuterRef("paper_version"),
        language=OuterRef("language"),
        status=Enrichment.Status.OK,
    )
    rows = (
        Enrichment.objects.filter(
            paper__announce_date__range=(start, end),
            paper_version=F("paper__version"),
            status=Enrichment.Status.SKIPPED,
        )
        .exclude(Exists(enriched_since))
        .values("paper__announce_date")
        .annotate(readings=Count("pk"), papers=Count("paper", distinct=True))
        .order_by()
    )
    return {row["paper__announce_date"]: (row["readings"], row["papers"]) for row in rows}


def spending_window(*, end: dt.date, days: int = 30) -> Spending:
    """The `days` calendar days up to `end`: two queries whatever the number of rows."""
    start = end - dt.timedelta(days=days - 1)
    budget = settings.LLM_DAILY_TOKEN_BUDGET
    window = {
        start + dt.timedelta(days=n): SpendingDay(day=start + dt.timedelta(days=n), budget=budget)
        for n in range(days)
    }
    by_model_purpose: dict[tuple[str, str], UsageTotals] = defaultdict(UsageTotals)
    rows = LLMUsage.objects.filter(day__range=(start, end)).values(
        "day", "model", "purpose", "calls", "tokens_in", "tokens_out", "cost"
    )
    for row in rows:
        figures: dict[str, Any] = {
            "calls": row["calls"],
            "tokens_in": row["tokens_in"],
            "tokens_out": row["tokens_out"],
            "cost": row["cost"],
        }
        spent = window[row["day"]]
        spent.totals.add(**figures)
        tokens = row["tokens_in"] + row["tokens_out"]
        spent.by_purpose[row["purpose"]] = spent.by_purpose.get(row["purpose"], 0) + tokens
        by_model_purpose[(row["model"], row["purpose"])].add(**figures)
    for day, (readings, papers) in budget_shortfalls(start=start, end=end).items():
        window[day].skipped_readings, window[day].skipped_papers = readings, papers
    return Spending(
        days=list(window.values()),
        by_model_purpose=dict(sorted(by_model_purpose.items())),
        budget=budget,
    )
