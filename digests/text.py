"""Normalising text from arXiv: plain text, whitespace collapsed, entities decoded once."""

from __future__ import annotations

import unicodedata

__all__ = ["clean_text"]


def clean_text(text: str | None) -> str:
    """Collapse the API's line-wrapping whitespace and strip control characters.

    The XML parser has already decoded the feed's entities once; a literal "&amp;" that
    remains was in the author's own text and stays as it is. LaTeX ($\\alpha$) is left readable.
    """
    if not text:
        return ""
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in text)
    return " ".join(kept.split())
