"""A chunk's digest e-mails, byte for byte those of `render.digest_render`, fast.

The reference renders each reader's cards with Django, the whole document to MJML and compiles
it with `mjml2html`, up to seven times while fitting Gmail's clip, then wraps its lines. Here,
with the same templates:

- a paper's card is rendered and compiled once per language, excerpt length and day (`cards`),
  with unguessable markers where a reader's own values go (rank, relevance, reasons, the
  tokens of the signed "more / less like this / save" links), and kept with its lines already
  wrapped (`lines.LinePlan`); likewise its block of the text part;
- the document around the cards is compiled once per layout (`Layout`: language, day, how
  many papers, how many shown, which notices; never a reader's text), with markers for the
  reader's address, brief and links, and one `<mj-raw>` marker where the cards go (MJML
  compiles each section on its own: the cards' HTML is the concatenation of theirs);
- a reader's e-mail is joins of those pieces and of their escaped values; how many papers fit
  the clip comes from the pieces' byte sizes; only lines holding a reader's value or joining
  two pieces are measured (and wrapped when too long).

Every value is escaped as the template would, then as MJML writes it (`<br>` as `<br />`);
the tests compare this path with the reference (en/zh, with and without LLM, cut and whole).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator, normalize_newlines
from mjml import mjml2html

from digests.mail.cards import Cards, html_key, text_key
from digests.mail.lines import Atom, LinePlan, atom_value, atoms_joined
from digests.mail.links import ChunkSigners
from digests.mail.marks import (
    CARDS_RAW,
    ITEM,
    LAYOUT_SLOTS,
    SIGNALS,
    M,
    size,
)
from digests.mail.pieces import (
    HtmlCard,
    Layout,
    Masked,
    Plan,
)
from digests.mail.views import (
    PaperShown,
    ReaderItem,
    digests_with_updates,
    reader_items_bulk,
)
from digests.mail_html import html_wire_bytes
from digests.models import Digest
from digests.render import (
    EXCERPTS,
    HTML_BUDGET,
    RenderedEmail,
    email_context,
    kept_order,
    subject_line,
    update_views,
)
from digests.text import latex_formatting_removed
from newsletter.i18n import language_for_translation
from subscribers.models import Subscriber

__all__ = ["Composer"]

_CACHE_LIMIT = 20_000


@dataclass
class _Email:
    """One reader's e-mail while it is made."""

    context: dict[str, Any]
    items: list[ReaderItem]
    order: list[int]  # positions in the order papers are kept when the e-mail is cut
    values: dict[str, Atom]  # the layout's slots, escaped
    filled: dict[tuple[int, int], Atom]  # (excerpt level, position) → the reader's card
    notes: list[str]  # lines past RFC 5322's limit even wrapped: sizes measured as sent


class Composer:
    """Renders digests, keeping compiled cards and layouts for the next ones (one per worker:
    a day's cards are compiled once whatever the number of chunks)."""

    def __init__(self) -> None:
        self.cards = Cards()
        self.layouts: dict[tuple, Layout] = {}
        self.text_layouts: dict[tuple, Plan] = {}
        self.reasons: dict[tuple, str] = {}  # (reasons, separator) → escaped and joined
        self.layouts_compiled = 0

    @property
    def compiled(self) -> int:
        """mjml2html calls made."""
        return self.layouts_compiled + self.cards.compiled

    # ------------------------------------------------------------------ layouts

    def _layout_key(self, context: dict[str, Any], *more: object) -> tuple:
        digest: Digest = context["digest"]
        return (
            context["lang"],
            digest.issue_date,
            len(context["items"]),
            bool(context["brief"]),
            context["translation_off"],
            context["untranslated"],
            context["site_url"],
            # updates are the reader's own: compiled with them (rare; see digests/versions.py)
            digest.pk if context["updates"] else 0,
            *more,
        )

    def _masked(self, context: dict[str, Any]) -> dict[str, Any]:
        return {
            **context,
            "brief": M["brief"] if context["brief"] else "",
            "view_url": M["view"],
            "unsubscribe_url": M["unsub"],
            "manage_url": M["manage"],
            "total": len(context["items"]),
        }

    def _layout(self, context: dict[str, Any], shown: int) -> Layout:
        key = self._layout_key(context, shown)
        layout = self.layouts.get(key)
        if layout is None:
            if len(self.layouts) > _CACHE_LIMIT:
                self.layouts.clear()
            digest: Digest = context["digest"]
            masked = {
                **self._masked(context),
                "digest": Masked(digest, subscriber=Masked(digest.subscriber, email=M["email"])),
                "shown_count": shown,
                "cards": [mark_safe(CARDS_RAW)] if context["items"] else [],  # noqa: S308
                "cut": shown < len(context["items"]),
            }
            mjml = render_to_string("email/digest.mjml", masked)
            html = mjml2html(mjml, disable_comments=True)
            self.layouts_compiled += 1
            html = html.replace(M["brief"], M["preview"], 1)  # the head's preview comes first
            layout = Layout(html=LinePlan(html, LAYOUT_SLOTS), mjml=mjml)
            self.layouts[key] = layout
        return layout

    def _text_layout(self, context: dict[str, Any]) -> Plan:
        key = self._layout_key(context)
        plan = self.text_layouts.get(key)
        if plan is None:
            if len(self.text_layouts) > _CACHE_LIMIT:
                self.text_layouts.clear()
            text = self.cards.templates().document.render(self._masked(context))
            plan = Plan(text, {**LAYOUT_SLOTS, ITEM: "item"})
            self.text_layouts[key] = plan
        return plan

    # ------------------------------------------------------------------ one e-mail

    def render(
        self,
        digest: Digest,
        items: list[ReaderItem],
        signers: ChunkSigners,
        updates: list | None = None,
    ) -> RenderedEmail:
        """The digest's e-mail, as `render.digest_render` renders it (`updates`: its updated
        papers' views, None to read them)."""
        if updates is None:
            updates = update_views(digest)
        context = email_context(
            digest,
            [None] * len(items),  # type: ignore[list-item]  # the templates count them
            updates,
            tokens=signers.reader_tokens(digest),
            untranslated=sum(not i.paper.shown.ai_read for i in items),
        )
        with translation.override(context["lang"]):
            email = _Email(
                context=context,
                items=items,
                order=kept_order([i.reason for i in items]),
                values=self._reader_values(context),
                filled={},
                notes=[],
            )
            html, shown = self._fitting(email)
            text = self._text(context, items)
            top = items[0].paper.shown if items else None
            subject = subject_line(digest, len(items), top, len(updates))
        return RenderedEmail(subject=subject, html=html, text=text, shown=shown)

    @staticmethod
    def _reader_values(context: dict[str, Any]) -> dict[str, Atom]:
        brief = latex_formatting_removed(context["brief"] or "")
        values = {
            "email": escape(context["digest"].subscriber.email),
            "preview": escape(Truncator(brief).chars(140)),
            "brief": escape(normalize_newlines(brief)).replace("\n", "<br />"),
            "view": escape(context["view_url"]),
            "unsub": escape(context["unsubscribe_url"]),
            "manage": escape(context["manage_url"]),
        }
        return {slot: atom_value(value) for slot, value in values.items()}

    def _reasons(self, reasons: tuple[str, ...], separator: str, html: bool) -> str:
        key = (reasons, separator, html)
        joined = self.reasons.get(key)
        if joined is None:
            if len(self.reasons) > _CACHE_LIMIT:
                self.reasons.clear()
            joined = separator.join(escape(r) if html else r for r in reasons)
            self.reasons[key] = joined
        return joined

    def _card_atom(self, card: HtmlCard, item: ReaderItem, notes: list[str]) -> Atom:
        values = {
            "rank": atom_value(f"{item.rank:02d}"),
            "relevance": atom_value(str(item.relevance)),
            "reasons": atom_value(self._reasons(item.reasons, card.separator, True)),
        }
        for signal, token in zip(SIGNALS, item.tokens, strict=True):
            values[signal] = (token, len(token), len(token), len(token), -1)  # ASCII
        if card.plan.long:
            notes.append("card")
        return atoms_joined(card.plan.atoms_filled(values), edges=False, notes=notes)

    def _text(self, context: dict[str, Any], items: list[ReaderItem]) -> str:
        plan = self._text_layout(context)
        values = {
            "email": context["digest"].subscriber.email,
            "preview": "",
            "brief": latex_formatting_removed(context["brief"] or ""),
            "view": context["view_url"],
            "unsub": context["unsubscribe_url"],
            "manage": context["manage_url"],
        }
        blocks = iter(items)
        out = list(plan.pieces)
        for i in range(1, len(out), 2):
            if out[i] == "item":
                item = next(blocks)
                card = self.cards.text_card(context, item)
                out[i] = card.plan.fill(
                    {
                        "rank": f"{item.rank:02d}",
                        "relevance": str(item.relevance),
                        "reasons": self._reasons(item.reasons, card.separator, False),
                        **dict(zip(SIGNALS, item.tokens, strict=True)),
                    }
                )
            else:
                out[i] = values[out[i]]
        return "".join(out)

    def _html(self, email: _Email, level: int, shown: int) -> tuple[int, str | None]:
        """(bytes on the wire, HTML) with `shown` papers, or (a lower bound, None) if over."""
        layout = self._layout(email.context, shown)
        kept = sorted(email.order[:shown])
        values = email.values
        plan = layout.html
        least = plan.size + sum(values[s][1] for s in plan.slots if s != "cards")
        compiled = self.cards.html_cards(layout, [email.items[p] for p in kept], level)
        least += sum(
            self._card_size(c, email.items[p]) for c, p in zip(compiled, kept, strict=True)
        )
        if least > HTML_BUDGET:  # wrapping only adds bytes
            return least, None
        missing = [p for p in kept if (level, p) not in email.filled]
        if missing:
            compiled = self.cards.html_cards(layout, [email.items[p] for p in missing], level)
            for card, p in zip(compiled, missing, strict=True):
                email.filled[level, p] = self._card_atom(card, email.items[p], email.notes)
        return self._joined(email, layout, [email.filled[level, p] for p in kept])

    def _card_size(self, card: HtmlCard, item: ReaderItem) -> int:  # before any line is wrapped
        sizes = dict(zip(SIGNALS, map(len, item.tokens), strict=True))
        sizes["rank"] = max(2, len(str(item.rank)))
        sizes["relevance"] = len(str(item.relevance))
        sizes["reasons"] = size(self._reasons(item.reasons, card.separator, True))
        return card.plan.filled_size(sizes)

    @staticmethod
    def _joined(email: _Email, layout: Layout, cards: list[Atom]) -> tuple[int, str]:
        plan = layout.html
        atoms = [plan.atoms[0]]
        for n, slot in enumerate(plan.slots, start=1):
            if slot == "cards":
                atoms.extend(cards)
            else:
                atoms.append(email.values[slot])
            atoms.append(plan.atoms[n])
        html, size, *_ = atoms_joined(atoms, edges=True, notes=email.notes)
        if email.notes or plan.long:  # a line past RFC 5322's limit: measured as sent
            size = html_wire_bytes(html)
        return size, html

    def _fitting(self, email: _Email) -> tuple[str, int]:
        """As `render._fitting`: all papers with long excerpts if they fit, else short excerpts
        and the most papers that fit (the same binary search on the same sizes)."""
        count = len(email.items)
        size, html = self._html(email, 0, count)
        if html is not None and size <= HTML_BUDGET:
            return html, count
        low, high = 0, count
        while low < high:
            middle = (low + high + 1) // 2
            size, html = self._html(email, 1, middle)
            if html is not None and size <= HTML_BUDGET:
                low = middle
            else:
                high = middle - 1
        size, html = self._html(email, 1, low)
        if html is None:  # not even the layout fits: it goes as it is, as the reference's
            self._html(email, 1, low)  # its cards filled
            layout = self._layout(email.context, low)
            cards = [email.filled[1, p] for p in sorted(email.order[:low])]
            html = self._joined(email, layout, cards)[1]
        return html, low

    def render_chunk(self, digests: Sequence[Digest]) -> dict[int, RenderedEmail]:
        """Each digest's e-mail by id: the items in bulk (`reader_items_bulk`), the cards this
        process lacks read from the shared ones at once, then `render`."""
        items = reader_items_bulk(digests)
        self.cards.prefetch(
            (language_for_translation(d.subscriber.language), i)
            for d in digests
            for i in items.get(d.pk, [])
        )
        updated = digests_with_updates(digests)
        signers = ChunkSigners.now()
        return {
            d.pk: self.render(d, items.get(d.pk, []), signers, None if d.pk in updated else [])
            for d in digests
        }

    def warm(self, day: dt.date, language: str, papers: Sequence[PaperShown]) -> int:
        """Compile these papers' cards (HTML, at every excerpt length, and text) for readers of
        `language` into the shared cards; return how many papers."""
        reader = Subscriber(email="reader@example.org", language=language)
        digest = Digest(subscriber=reader, issue_date=day, brief="")
        tokens = {"digest": "warm", "unsubscribe": "warm", "manage": "warm"}
        context = email_context(digest, [None] * 20, [], tokens=tokens, untranslated=0)  # type: ignore[list-item]
        items = [
            ReaderItem(rank, 0, "", ("-",), paper, ("",) * len(SIGNALS))
            for rank, paper in enumerate(papers, start=1)
        ]
        with translation.override(context["lang"]):
            code = translation.get_language()
            levels = range(len(EXCERPTS))
            # what this process held already is stored again (the cache may have lost it);
            # what it fetches or compiles now is in the cache already
            html_keys = [html_key(i, level, code) for level in levels for i in items]
            text_keys = [text_key(i, code) for i in items]
            held = {k: self.cards.html[k] for k in html_keys if k in self.cards.html}
            held_text = {k: self.cards.text[k] for k in text_keys if k in self.cards.text}
            layout = self._layout(context, len(context["items"]))
            for level in levels:
                self.cards.html_cards(layout, items, level)
            self.cards.text_cards(context, items)
        self.cards.shared.set_many("html", held)
        self.cards.shared.set_many("text", held_text)
        return len(items)
