"""Each paper's card, compiled once per language and excerpt length, for every reader.

A card is the paper's block of the e-mail (HTML: compiled by MJML inside a layout's head; text:
digest.txt's loop body) with markers where a reader's own values go. Cards are kept here, per
process, and through the cache (`shared`) for the other processes: the day's cards can be
compiled before sending (`Composer.warm`) and every worker reads them from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.template.loader import get_template
from django.utils import translation
from mjml import mjml2html

from digests.mail.lines import LinePlan
from digests.mail.marks import CARD_SLOTS, CARDS_RAW, ITEM, R1, R2, marker, placeholder_view
from digests.mail.pieces import HtmlCard, Layout, Plan, TextCard, TextTemplates, reasons_joined
from digests.mail.shared import SharedCards
from digests.mail.views import ReaderItem
from digests.render import EXCERPTS

__all__ = ["Cards"]

_CACHE_LIMIT = 20_000
_BATCH = 25  # cards per mjml2html call: it takes longer a card on long documents


def html_key(item: ReaderItem, level: int, language: str) -> tuple:
    return (level, bool(item.reasons), language, item.paper.key)


def text_key(item: ReaderItem, language: str) -> tuple:
    return (bool(item.reasons), language, item.paper.key)


class Cards:
    """The compiled cards of one process (the composer's), backed by the shared ones."""

    def __init__(self) -> None:
        self.html: dict[tuple, HtmlCard] = {}
        self.text: dict[tuple, TextCard] = {}
        self.shared = SharedCards()
        self.compiled = 0  # mjml2html calls made
        self._templates: TextTemplates | None = None

    def templates(self) -> TextTemplates:
        if self._templates is None:
            self._templates = TextTemplates(ITEM)
        return self._templates

    def prefetch(self, items: Iterable[tuple[str, ReaderItem]]) -> None:
        """Read the long-excerpt HTML and text cards of these (language, item) pairs that this
        process lacks from the shared ones, in two round trips."""
        if not self.shared.enabled:
            return
        html = {html_key(i, 0, language) for language, i in items} - self.html.keys()
        text = {text_key(i, language) for language, i in items} - self.text.keys()
        self._kept(self.html, self.shared.get_many("html", html))
        self._kept(self.text, self.shared.get_many("text", text))

    @staticmethod
    def _kept(cards: dict[tuple, Any], found: dict[tuple, Any]) -> None:
        if len(cards) + len(found) > _CACHE_LIMIT:
            cards.clear()
        cards.update(found)

    def html_cards(self, layout: Layout, items: Sequence[ReaderItem], level: int) -> list[HtmlCard]:
        """The compiled card of each item at excerpt `level`: kept, shared, or compiled inside
        the layout's head (the missing ones together, `_BATCH` at a time)."""
        language = translation.get_language()
        keys = [html_key(i, level, language) for i in items]
        missing = {k: i for k, i in zip(keys, items, strict=True) if k not in self.html}
        if missing:
            found = self.shared.get_many("html", missing)
            todo = [(k, i) for k, i in missing.items() if k not in found]
            compiled: dict[tuple, HtmlCard] = {}
            for start in range(0, len(todo), _BATCH):
                compiled.update(self._compiled(layout, todo[start : start + _BATCH], level))
            self.shared.set_many("html", compiled)
            fresh = found | compiled
            out = [fresh[k] if k in fresh else self.html[k] for k in keys]
            self._kept(self.html, fresh)
            return out
        return [self.html[k] for k in keys]

    def _compiled(
        self, layout: Layout, todo: list[tuple[tuple, ReaderItem]], level: int
    ) -> dict[tuple, HtmlCard]:
        template = get_template("email/digest_item.mjml")
        excerpt = EXCERPTS[level]
        sources = [
            f"<mj-raw>{marker(f's{n}')}</mj-raw>"
            + template.render(
                {"view": placeholder_view(i.paper, bool(i.reasons)), "excerpt": excerpt}
            )
            + f"<mj-raw>{marker(f'e{n}')}</mj-raw>"
            for n, (_key, i) in enumerate(todo)
        ]
        html = mjml2html(layout.mjml.replace(CARDS_RAW, "".join(sources)), disable_comments=True)
        self.compiled += 1
        out = {}
        for n, (key, _item) in enumerate(todo):
            start = html.index(marker(f"s{n}")) + len(marker(f"s{n}"))
            text, separator = reasons_joined(
                html[start : html.index(marker(f"e{n}"))], R1, R2, marker("reasons")
            )
            out[key] = HtmlCard(LinePlan(text, CARD_SLOTS), separator)
        return out

    def text_card(self, context: dict[str, Any], item: ReaderItem) -> TextCard:
        return self.text_cards(context, [item])[0]

    def text_cards(self, context: dict[str, Any], items: Sequence[ReaderItem]) -> list[TextCard]:
        """Each item's text card: kept, shared (the missing ones in one round trip), or
        rendered here (and shared in one more)."""
        language = translation.get_language()
        keys = [text_key(i, language) for i in items]
        missing = {k: i for k, i in zip(keys, items, strict=True) if k not in self.text}
        if not missing:
            return [self.text[k] for k in keys]
        found = self.shared.get_many("text", missing)
        rendered = {}
        for key, item in missing.items():
            if key not in found:
                view = placeholder_view(item.paper, bool(item.reasons))
                text = self.templates().item.render({**context, "view": view})
                joined, separator = reasons_joined(text, R1, R2, marker("reasons"))
                rendered[key] = TextCard(Plan(joined, CARD_SLOTS), separator)
        self.shared.set_many("text", rendered)
        fresh = found | rendered
        out = [fresh[k] if k in fresh else self.text[k] for k in keys]
        self._kept(self.text, fresh)
        return out
