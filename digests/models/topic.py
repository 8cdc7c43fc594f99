"""Staff-curated topics that subscribers follow and papers are matched against."""

from __future__ import annotations

from django.db import models

__all__ = ["Topic"]


class Topic(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    names = models.JSONField(default=dict, help_text='Name per language, e.g. {"en": …, "zh": …}.')
    descriptions = models.JSONField(default=dict, blank=True, help_text="Description per language.")
    categories = models.JSONField(
        default=list, blank=True, help_text="arXiv categories drawn from."
    )
    keywords = models.JSONField(default=list, blank=True, help_text="Phrases for lexical matching.")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    featured = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0, help_text="Order in the catalogue.")

    class Meta:
        ordering = ["position", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="topic_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name("en")

    def name(self, language: str) -> str:
        """The name in `language` (or its base language), else English, else the slug."""
        base = language.split("-")[0].lower()
        for key in (language, base, "en"):
            if self.names.get(key):
                return self.names[key]
        return self.slug

    def description(self, language: str) -> str:
        base = language.split("-")[0].lower()
        for key in (language, base, "en"):
            if self.descriptions.get(key):
                return self.descriptions[key]
        return ""
