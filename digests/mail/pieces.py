"""The pieces `compose` joins: compiled text cut at its markers, and digest.txt cut at its loop."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from typing import Any as Template  # the engine's template: render(dict)

from django.template import engines
from django.template.loader import get_template

from digests.mail.lines import LinePlan

__all__ = ["HtmlCard", "Layout", "Masked", "Plan", "TextCard", "TextTemplates", "reasons_joined"]


class Plan:
    """A text cut at its markers: literal, slot, literal, … with the literals' byte size."""

    __slots__ = ("pieces", "size", "slots")

    def __init__(self, text: str, markers: dict[str, str]) -> None:
        present = {m: s for m, s in markers.items() if m in text}
        parts = re.split("(" + "|".join(map(re.escape, present)) + ")", text) if present else [text]
        self.pieces = [p if i % 2 == 0 else present[p] for i, p in enumerate(parts)]
        self.size = sum(len(p.encode()) for p in parts[::2])
        self.slots = self.pieces[1::2]

    def fill(self, values: dict[str, str]) -> str:
        out = list(self.pieces)
        for i in range(1, len(out), 2):
            out[i] = values[out[i]]
        return "".join(out)

    def filled_size(self, sizes: dict[str, int]) -> int:
        return self.size + sum(sizes[slot] for slot in self.slots)


def reasons_joined(text: str, first: str, second: str, joined: str) -> tuple[str, str]:
    """The text with its two reason markers (and what separates them) made one slot."""
    found = re.search(re.escape(first) + "(.*?)" + re.escape(second), text, re.DOTALL)
    if found is None:
        return text, ""
    return text[: found.start()] + joined + text[found.end() :], found.group(1)


@dataclass(frozen=True)
class HtmlCard:
    plan: LinePlan
    separator: str  # between two reasons


@dataclass(frozen=True)
class TextCard:
    plan: Plan
    separator: str


@dataclass(frozen=True)
class Layout:
    html: LinePlan  # the cards slot is where the shown cards go, in rank order
    mjml: str  # the MJML it was compiled from (a head to compile cards in)


class TextTemplates:
    """digest.txt cut at its loop over the items: the document with a marker per item, and the
    loop's body on its own, so each paper's block is rendered once per language."""

    def __init__(self, item_marker: str) -> None:
        source = get_template("email/digest.txt").template.source  # type: ignore[attr-defined]
        loop = re.search(r"(\{% for view in items %\})(.*?)(\{% empty %\})", source, re.DOTALL)
        load = re.match(r"\{% load [^%]*%\}", source)
        if loop is None or load is None:
            raise ValueError("digest.txt has no {% for view in items %} … {% empty %} loop")
        engine = engines["django"]
        self.document: Template = engine.from_string(
            source[: loop.start(2)] + item_marker + source[loop.end(2) :]
        )
        self.item: Template = engine.from_string(
            load.group(0) + "{% autoescape off %}" + loop.group(2) + "{% endautoescape %}"
        )


class Masked:
    """An object whose named attributes are replaced (the reader's address by a marker)."""

    def __init__(self, wrapped: Any, **replaced: Any) -> None:
        self._wrapped = wrapped
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)
