"""Normalising text from arXiv: plain text, whitespace collapsed, entities decoded once."""

from __future__ import annotations

import re

__all__ = ["clean_text", "phrase_in"]

# C0 and C1 control characters; format characters (zero-width joiners…) are kept.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_text(text: str | None) -> str:
    """Collapse the API's line-wrapping whitespace and strip control characters.

    The XML parser has already decoded the feed's entities once; a literal "&amp;" that
    remains was in the author's own text and stays as it is. LaTeX ($\\alpha$) is left readable.
    """
    if not text:
        return ""
    return " ".join(_CONTROL.sub(" ", text).split())


def phrase_in(phrase: str, lowered_text: str) -> bool:
    """Whole-word, case-insensitive phrase match (so "RL" does not match "world")."""
    pattern = r"(?<!\w)" + re.escape(phrase.lower()) + r"(?!\w)"
    return re.search(pattern, lowered_text) is not None
