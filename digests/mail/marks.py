"""The markers a card or a layout is compiled with where a reader's own values go, and the
placeholder view that carries them through the templates."""

from __future__ import annotations

import secrets
from dataclasses import replace

from django.conf import settings
from django.urls import reverse

from digests.mail.views import PaperShown, link_fields, link_route
from digests.models import DigestItem
from digests.render import ItemView

__all__ = [
    "CARDS_RAW",
    "CARD_SLOTS",
    "ITEM",
    "LAYOUT_SLOTS",
    "R1",
    "R2",
    "SIGNALS",
    "M",
    "marker",
    "placeholder_view",
    "size",
]

_NONCE = secrets.token_hex(6)  # paper text cannot hold a marker it cannot guess


def marker(name: str) -> str:
    return f"x{_NONCE}{name}x"  # letters and digits: Django and MJML leave it as it is


RANK = 7_000_000_000 + secrets.randbelow(10**9)  # integers for `stringformat:"02d"`
RELEVANCE = 8_000_000_000 + secrets.randbelow(10**9)
M = {
    name: marker(name) for name in ("email", "brief", "preview", "view", "unsub", "manage", "cards")
}
SIGNALS = list(link_fields().values())  # "more", "less", "save": the tokens' order
TOKENS = {signal: marker(f"token{signal}") for signal in SIGNALS}
R1, R2 = marker("reasona"), marker("reasonb")
CARDS_RAW = f"<mj-raw>{M['cards']}</mj-raw>"
ITEM = marker("item")

CARD_SLOTS = {
    str(RANK): "rank",
    str(RELEVANCE): "relevance",
    marker("reasons"): "reasons",
    **{marker: signal for signal, marker in TOKENS.items()},
}
LAYOUT_SLOTS = {
    M["email"]: "email",
    M["preview"]: "preview",
    M["brief"]: "brief",
    M["view"]: "view",
    M["unsub"]: "unsub",
    M["manage"]: "manage",
    M["cards"]: "cards",
}


def size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def placeholder_view(paper: PaperShown, reasons: bool) -> ItemView:
    """The paper's view with a marker for everything that differs between its readers."""
    links = {
        field: settings.SITE_URL + reverse(link_route(signal), args=[TOKENS[signal]])
        for field, signal in link_fields().items()
    }
    return ItemView(
        item=DigestItem(rank=RANK),
        shown=replace(paper.shown, relevance=RELEVANCE),
        reasons=(R1, R2) if reasons else (),
        paper_url=paper.paper_url,
        **links,
    )
