"""LLM spending, one row per day, model and purpose, incremented atomically."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

__all__ = ["LLMUsage"]


class LLMUsage(models.Model):
    class Purpose(models.TextChoices):
        ENRICH = "enrich", "enrichment"
        BRIEF = "brief", "brief of the day"
        EMBED = "embed", "embedding"

    day = models.DateField()
    model = models.CharField(max_length=128)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    calls = models.PositiveIntegerField(default=0)
    tokens_in = models.PositiveBigIntegerField(default=0)
    tokens_out = models.PositiveBigIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal(0))

    class Meta:
        verbose_name = "LLM usage"
        verbose_name_plural = "LLM usage"
        ordering = ["-day", "model", "purpose"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "model", "purpose"], name="llm_usage_one_row_per_day_model_purpose"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.model} {self.purpose}: {self.tokens_in}+{self.tokens_out}"
