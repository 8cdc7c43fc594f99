"""A chunk's digest e-mails, byte for byte those of `render.digest_render_reference`, fast.

The reference renders each reader's cards with Django, the whole document to MJML and compiles
it with `mjml2html`, up to seven times while fitting Gmail's clip. Here, with the same
templates:

- a paper's card is rendered and compiled once per language, excerpt length and day (`_cards`),
  with unguessable markers where a reader's own values go (rank, relevance, reasons, the
  signed "more / less like this" links); likewise its block of the text part;
- the document around the cards is compiled once per layout (`_Layout`: language, day, how
  many papers, how many shown, which notices; never a reader's text), with markers for the
  reader's address, brief and links, and one `<mj-raw>` marker where the cards go (MJML
  compiles each section on its own: the cards' HTML is the concatenation of theirs);
- a reader's e-mail is then string joins of those pieces and of their already escaped values,
  and how many papers fit the clip is computed from the pieces' byte sizes; only the chosen
  HTML is wrapped (`lines_wrapped`) and measured.

Every value is escaped as the template would escape it, then as MJML writes it (`<br>` becomes
`<br />`). The tests compare this path with the reference on English and Chinese digests,
with and without LLM readings, cut and whole.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator, normalize_newlines
from mjml import mjml2html

from digests.mail.pieces import Card, Masked, Plan, TextTemplates, reasons_joined
from digests.mail.views import digests_with_updates, item_views_bulk, link_fields
from digests.mail_html import html_wire_bytes, lines_wrapped
from digests.models import Digest, DigestItem
from digests.render import (
    EXCERPTS,
    HTML_BUDGET,
    ItemView,
    RenderedEmail,
    digest_subject,
    email_context,
    kept_first,
)
from digests.shown import ShownPaper
from digests.text import latex_formatting_removed

__all__ = ["Composer"]

_NONCE = secrets.token_hex(6)  # paper text cannot hold a marker it cannot guess


def _marker(name: str) -> str:
    return f"x{_NONCE}{name}x"  # letters and digits: Django and MJML leave it as it is


RANK = 7_000_000_000 + secrets.randbelow(10**9)  # integers for `stringformat:"02d"`
RELEVANCE = 8_000_000_000 + secrets.randbelow(10**9)
M = {
    name: _marker(name)
    for name in ("email", "brief", "preview", "view", "unsub", "manage", "cards")
}
LINKS = {field: _marker(field.replace("_", "")) for field in link_fields()}
R1, R2 = _marker("reasona"), _marker("reasonb")
CARDS_RAW = f"<mj-raw>{M['cards']}</mj-raw>"
ITEM = _marker("item")
_CACHE_LIMIT = 20_000


_CARD_SLOTS = {
    str(RANK): "rank",
    str(RELEVANCE): "relevance",
    _marker("reasons"): "reasons",
    **{marker: field for field, marker in LINKS.items()},
}


def _placeholder_view(view: ItemView) -> ItemView:
    """The view with a marker for everything that differs between readers of the paper."""
    return ItemView(
        item=DigestItem(rank=RANK),
        shown=replace(view.shown, relevance=RELEVANCE),
        reasons=(R1, R2) if view.reasons else (),
        paper_url=view.paper_url,
        **LINKS,
    )


def _shown_key(shown: ShownPaper, paper_url: str) -> tuple:
    paper = shown.paper
    return (
        paper.pk,
        paper.version,
        shown.language,
        shown.translated_title,
        shown.translated_abstract,
        tuple(shown.affiliations),
        shown.summary,
        shown.summary_is_ai,
        paper_url,
    )


_LAYOUT_SLOTS = {
    M["email"]: "email",
    M["preview"]: "preview",
    M["brief"]: "brief",
    M["view"]: "view",
    M["unsub"]: "unsub",
    M["manage"]: "manage",
    M["cards"]: "cards",
}


@dataclass(frozen=True)
class _Layout:
    html: Plan  # the cards slot is where the shown cards go, in rank order
    mjml: str  # the MJML it was compiled from (a head to compile cards in)


class Composer:
    """Renders digests, keeping compiled cards and layouts for the next ones (one per worker:
    a day's cards are compiled once whatever the number of chunks)."""

    def __init__(self) -> None:
        self.cards: dict[tuple, Card] = {}
        self.text_items: dict[tuple, Card] = {}
        self.layouts: dict[tuple, _Layout] = {}
        self.text_layouts: dict[tuple, Plan] = {}
        self._templates: TextTemplates | None = None
        self.compiled = 0  # mjml2html calls made

    # ------------------------------------------------------------------ layouts

    def _layout(self, context: dict[str, Any], shown: int) -> _Layout:
        digest: Digest = context["digest"]
        views: list[ItemView] = context["items"]
        key = (
            context["lang"],
            digest.issue_date,
            len(views),
            shown,
            bool(context["brief"]),
            context["translation_off"],
            context["untranslated"],
            context["site_url"],
            # updates are the reader's own: compiled with them (rare; see digests/versions.py)
            digest.pk if context.get("updates") else 0,
        )
        layout = self.layouts.get(key)
        if layout is None:
            if len(self.layouts) > _CACHE_LIMIT:
                self.layouts.clear()
            masked = {
                **context,
                "digest": Masked(digest, subscriber=Masked(digest.subscriber, email=M["email"])),
                "brief": M["brief"] if context["brief"] else "",
                "view_url": M["view"],
                "unsubscribe_url": M["unsub"],
                "manage_url": M["manage"],
                "total": len(views),
                "shown_count": shown,
                "cards": [mark_safe(CARDS_RAW)] if views else [],  # noqa: S308 (our marker)
                "cut": shown < len(views),
            }
            mjml = render_to_string("email/digest.mjml", masked)
            html = mjml2html(mjml, disable_comments=True)
            self.compiled += 1
            html = html.replace(M["brief"], M["preview"], 1)  # the head's preview comes first
            layout = _Layout(html=Plan(html, _LAYOUT_SLOTS), mjml=mjml)
            self.layouts[key] = layout
        return layout

    def _text_layout(self, context: dict[str, Any]) -> Plan:
        views: list[ItemView] = context["items"]
        key = (
            context["lang"],
            context["digest"].issue_date,
            len(views),
            bool(context["brief"]),
            context["translation_off"],
            context["untranslated"],
            context["site_url"],
            context["digest"].pk if context.get("updates") else 0,
        )
        plan = self.text_layouts.get(key)
        if plan is None:
            if len(self.text_layouts) > _CACHE_LIMIT:
                self.text_layouts.clear()
            masked = {
                **context,
                "brief": M["brief"] if context["brief"] else "",
                "view_url": M["view"],
                "unsubscribe_url": M["unsub"],
                "manage_url": M["manage"],
                "total": len(views),
            }
            text = self._text_templates().document.render(masked)
            plan = Plan(text, {**_LAYOUT_SLOTS, ITEM: "item"})
            self.text_layouts[key] = plan
        return plan

    def _text_templates(self) -> TextTemplates:
        if self._templates is None:
            self._templates = TextTemplates(ITEM)
        return self._templates

    # ------------------------------------------------------------------ cards

    def _html_cards(self, layout: _Layout, views: Sequence[ItemView], level: int) -> list[Card]:
        """The compiled card of each view at excerpt `level`, compiling the missing ones in
        one `mjml2html` call inside the layout's head."""
        keys = [
            (level, bool(v.reasons), translation.get_language(), _shown_key(v.shown, v.paper_url))
            for v in views
        ]
        missing = {k: v for k, v in zip(keys, views, strict=True) if k not in self.cards}
        if missing:
            if len(self.cards) > _CACHE_LIMIT:
                self.cards.clear()
            template = get_template("email/digest_item.mjml")
            excerpt = EXCERPTS[level]
            sources = [
                f"<mj-raw>{_marker(f's{n}')}</mj-raw>"
                + template.render({"view": _placeholder_view(view), "excerpt": excerpt})
                + f"<mj-raw>{_marker(f'e{n}')}</mj-raw>"
                for n, view in enumerate(missing.values())
            ]
            html = mjml2html(
                layout.mjml.replace(CARDS_RAW, "".join(sources)), disable_comments=True
            )
            self.compiled += 1
            for n, key in enumerate(missing):
                start = html.index(_marker(f"s{n}")) + len(_marker(f"s{n}"))
                text, separator = reasons_joined(
                    html[start : html.index(_marker(f"e{n}"))], R1, R2, _marker("reasons")
                )
                self.cards[key] = Card(Plan(text, _CARD_SLOTS), separator)
        return [self.cards[k] for k in keys]

    def _text_blocks(self, context: dict[str, Any], views: Sequence[ItemView]) -> list[Card]:
        language = translation.get_language()
        out = []
        for view in views:
            key = (bool(view.reasons), language, _shown_key(view.shown, view.paper_url))
            card = self.text_items.get(key)
            if card is None:
                if len(self.text_items) > _CACHE_LIMIT:
                    self.text_items.clear()
                text = self._text_templates().item.render(
                    {**context, "view": _placeholder_view(view)}
                )
                joined, separator = reasons_joined(text, R1, R2, _marker("reasons"))
                card = Card(Plan(joined, _CARD_SLOTS), separator)
                self.text_items[key] = card
            out.append(card)
        return out

    # ------------------------------------------------------------------ one e-mail

    def render(
        self, digest: Digest, views: list[ItemView], updates: list | None = None
    ) -> RenderedEmail:
        """The digest's e-mail, as `render.digest_render_reference` renders it."""
        context = email_context(digest, views, updates)
        language = context["lang"]
        with translation.override(language):
            html, shown = self._fitting(context, views)
            text = self._text(context, views)
            subject = digest_subject(digest, views, len(context["updates"]))
        return RenderedEmail(subject=subject, html=html, text=text, shown=shown)

    def _reader_values(self, context: dict[str, Any], escape: Callable[[str], str]) -> dict:
        brief = latex_formatting_removed(context["brief"] or "")
        return {
            "email": escape(context["digest"].subscriber.email),
            "preview": escape(Truncator(brief).chars(140)),
            "brief": escape(normalize_newlines(brief)).replace("\n", "<br />")
            if escape is conditional_escape
            else brief,
            "view": escape(context["view_url"]),
            "unsub": escape(context["unsubscribe_url"]),
            "manage": escape(context["manage_url"]),
        }

    @staticmethod
    def _card_values(card: Card, view: ItemView, escape: Callable[[str], str]) -> dict:
        return {
            "rank": f"{view.item.rank:02d}",
            "relevance": str(view.shown.relevance),
            "reasons": card.separator.join(str(escape(r)) for r in view.reasons),
            **{field: escape(getattr(view, field)) for field in LINKS},
        }

    def _text(self, context: dict[str, Any], views: list[ItemView]) -> str:
        plan = self._text_layout(context)
        values = self._reader_values(context, str)
        blocks = self._text_blocks(context, views)
        items = iter(
            card.plan.fill(self._card_values(card, view, str))
            for card, view in zip(blocks, views, strict=True)
        )
        out = list(plan.pieces)
        for i in range(1, len(out), 2):
            out[i] = next(items) if out[i] == "item" else values[out[i]]
        return "".join(out)

    def _html(self, context: dict, views: list[ItemView], level: int, shown: int) -> tuple:
        """(unwrapped size in bytes, a function giving the unwrapped HTML) for `shown` papers."""
        layout = self._layout(context, shown)
        kept = sorted(kept_first(views)[:shown])
        memo = context.setdefault("_filled", {})  # per e-mail: (level, position) → filled card
        missing = [p for p in kept if (level, p) not in memo]
        if missing:
            cards = self._html_cards(layout, [views[p] for p in missing], level)
            for card, p in zip(cards, missing, strict=True):
                vals = self._card_values(card, views[p], conditional_escape)
                text = card.plan.fill(vals)
                memo[level, p] = (text, len(text.encode()))
        if "_values" not in context:
            values = self._reader_values(context, conditional_escape)
            context["_values"] = (values, {k: len(v.encode()) for k, v in values.items()})
        values, sizes = context["_values"]
        filled = [memo[level, p] for p in kept]
        size = layout.html.filled_size({**sizes, "cards": sum(n for _, n in filled)})

        def build() -> str:
            return layout.html.fill({**values, "cards": "".join(text for text, _ in filled)})

        return size, build

    def _fitting(self, context: dict[str, Any], views: list[ItemView]) -> tuple[str, int]:
        """As `render._fitting`: all papers with long excerpts if they fit, else short excerpts
        and the most papers that fit (the same binary search, each step decided from sizes
        unless the size is within what wrapping may add)."""
        size, build = self._html(context, views, 0, len(views))
        if size <= HTML_BUDGET:
            html = lines_wrapped(build())
            if html_wire_bytes(html) <= HTML_BUDGET:
                return html, len(views)
        low, high = 0, len(views)
        while low < high:
            middle = (low + high + 1) // 2
            if self._fits(context, views, middle):
                low = middle
            else:
                high = middle - 1
        html = lines_wrapped(self._html(context, views, 1, low)[1]())
        if low and html_wire_bytes(html) > HTML_BUDGET:  # a step misjudged: measure each
            return self._fitting_measured(context, views)
        return html, low

    def _fitting_measured(self, context: dict[str, Any], views: list[ItemView]) -> tuple:
        low, high = 0, len(views)
        while low < high:
            middle = (low + high + 1) // 2
            html = lines_wrapped(self._html(context, views, 1, middle)[1]())
            if html_wire_bytes(html) <= HTML_BUDGET:
                low = middle
            else:
                high = middle - 1
        return lines_wrapped(self._html(context, views, 1, low)[1]()), low

    def _fits(self, context: dict[str, Any], views: list[ItemView], shown: int) -> bool:
        size, build = self._html(context, views, 1, shown)
        if size > HTML_BUDGET:  # wrapping only adds bytes
            return False
        if size + _wrap_margin(size) <= HTML_BUDGET:
            return True
        return html_wire_bytes(lines_wrapped(build())) <= HTML_BUDGET

    def render_chunk(self, digests: Sequence[Digest]) -> dict[int, RenderedEmail]:
        """Each digest's e-mail by id: the items in bulk (`item_views_bulk`), then `render`."""
        views = item_views_bulk(digests)
        updated = digests_with_updates(digests)
        return {
            d.pk: self.render(d, views.get(d.pk, []), None if d.pk in updated else [])
            for d in digests
        }


def _wrap_margin(size: int) -> int:
    """More than `lines_wrapped` adds: at most 6 bytes (`<wbr\\n>`) per break, a break at most
    every few hundred bytes."""
    return 6 * (size // 200 + 16)
