"""Normalising text from arXiv: plain text, whitespace collapsed, entities decoded once."""

from __future__ import annotations

import re

__all__ = ["clean_text", "latex_formatting_removed", "phrase_in"]

# C0 and C1 control characters, and the bidirectional overrides, embeddings, isolates and marks
# (U+200E/F, U+202A–E, U+2066–9) that can make text read backwards; other format characters
# (zero-width joiners, which some scripts need) are kept.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str | None) -> str:
    """Collapse the API's line-wrapping whitespace and strip control and bidi characters.

    The XML parser has already decoded the feed's entities once; a literal "&amp;" that
    remains was in the author's own text and stays as it is. LaTeX ($\\alpha$) is left readable.
    """
    if not text:
        return ""
    return " ".join(_CONTROL.sub(" ", _BIDI.sub("", text)).split())


# Text-formatting commands authors leave in abstracts ("\\textbf{GRPO}"); maths ($\\alpha$) stays.
_FORMATTING = re.compile(
    r"\\(?:textbf|textit|texttt|textsc|textrm|textsf|emph|underline)\{([^{}]*)\}"
)


def latex_formatting_removed(text: str) -> str:
    """The text with LaTeX text-formatting commands replaced by their content, for a summary
    a reader reads as prose: "\\textbf{Rubric} distillation" → "Rubric distillation"."""
    previous = None
    while previous != text:  # nested commands, innermost first
        previous, text = text, _FORMATTING.sub(r"\1", text)
    return text


def phrase_in(phrase: str, lowered_text: str) -> bool:
    """Whole-word, case-insensitive phrase match (so "RL" does not match "world")."""
    pattern = r"(?<!\w)" + re.escape(phrase.lower()) + r"(?!\w)"
    return re.search(pattern, lowered_text) is not None
