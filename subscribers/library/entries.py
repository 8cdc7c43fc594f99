"""A library entry as read from any format: its arXiv id, DOI, title and abstract, cleaned.

Exports spell an arXiv paper many ways (`eprint` with `archivePrefix`, `arXiv:2005.07513` in a
number or note, an abs or pdf URL, the DataCite DOI `10.48550/arXiv.2005.07513`); every format's
reader hands its fields to `entry_make`, which finds the id wherever it is, and cleans LaTeX
accents, braces and markup out of titles and abstracts.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import latexcodec  # noqa: F401  # registers the "ulatex" codec

__all__ = [
    "ABSTRACT_MAX",
    "TITLE_MAX",
    "Entry",
    "arxiv_id_find",
    "doi_clean",
    "entry_make",
    "text_clean",
    "title_key",
]

TITLE_MAX = 500
ABSTRACT_MAX = 5000

_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7}"
_ID = rf"(?P<id>{_NEW_ID}|{_OLD_ID})(?:v\d+)?"
# An id in a URL (abs, pdf, html, export mirror), after "arXiv:", or in arXiv's DataCite DOI.
_IN_URL = re.compile(rf"arxiv\.org/(?:abs|pdf|html|format)/{_ID}", re.IGNORECASE)
_PREFIXED = re.compile(rf"\barxiv\s*[:.]?\s*{_ID}", re.IGNORECASE)
_DATACITE = re.compile(rf"10\.48550/arxiv\.{_ID}", re.IGNORECASE)
_BARE = re.compile(rf"^\s*{_ID}\s*$")
_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)", re.IGNORECASE)
_COMMAND = re.compile(r"\\(?:emph|textit|textbf|textsc|texttt|mathrm|mathbf|mathcal|text)\s*")
_LEFTOVER_COMMAND = re.compile(r"\\[a-zA-Z]+\s*")
_ESCAPED = re.compile(r"\\([_%&$#])")
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Entry:
    """One entry of a file: where it starts (line, 1-based) and what it says."""

    line: int
    arxiv_id: str = ""
    doi: str = ""
    title: str = ""
    abstract: str = ""
    added_at: dt.datetime | None = None
    zotero_key: str = ""

    @property
    def key(self) -> str:
        """What makes two entries the same paper: the arXiv id, else the DOI, else the title."""
        if self.arxiv_id:
            return f"arxiv:{self.arxiv_id}"
        if self.doi:
            return f"doi:{self.doi}"[:300]
        return f"title:{title_key(self.title)}"[:300]


def arxiv_id_find(values: Iterable[str], *, bare: bool = False) -> str:
    """The arXiv id (no version) named in any of `values`; `bare`: a value may be the id alone
    (a BibTeX `eprint` field with `archivePrefix = arXiv`, a line of a plain list)."""
    for value in values:
        if not value:
            continue
        for pattern in (_IN_URL, _DATACITE, _PREFIXED):
            if match := pattern.search(value):
                return match.group("id")
        if bare and (match := _BARE.match(value)):
            return match.group("id")
    return ""


def doi_clean(value: str) -> str:
    """A DOI in lower case without its resolver prefix, or "" when `value` holds none."""
    match = _DOI.search(value or "")
    return match.group(1).rstrip(".,;}").lower()[:200] if match else ""


def text_clean(value: str, limit: int) -> str:
    """Plain text: LaTeX accents decoded, braces and markup commands dropped, spaces folded."""
    if not value:
        return ""
    text = value
    # The LaTeX decoder is slow: only where a command or accent is, not just an escaped "_".
    if "\\" in _ESCAPED.sub("", text):
        with contextlib.suppress(ValueError, IndexError, UnicodeError):  # malformed: as it is
            text = codecs.decode(text, "ulatex")  # type: ignore[call-overload]
        text = _LEFTOVER_COMMAND.sub("", _COMMAND.sub("", text))
    text = _ESCAPED.sub(r"\1", text)
    text = text.replace("{", "").replace("}", "")
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text))
    return _SPACE.sub(" ", text).strip()[:limit]


def title_key(title: str) -> str:
    """A title's words, lower case, accents folded: the same paper spelt two ways matches."""
    folded = unicodedata.normalize("NFKD", title.casefold())
    return " ".join(_WORD.findall("".join(c for c in folded if not unicodedata.combining(c))))


def entry_make(
    *,
    line: int,
    id_fields: Iterable[str] = (),
    eprint: str = "",
    doi: str = "",
    title: str = "",
    abstract: str = "",
    added_at: dt.datetime | None = None,
    zotero_key: str = "",
) -> Entry:
    """An entry from a reader's fields: `eprint` may be a bare id, `id_fields` (URLs, notes,
    numbers, DOIs) name one only when they say arXiv."""
    doi_value = doi_clean(doi)
    arxiv_id = arxiv_id_find([eprint], bare=True) or arxiv_id_find([doi_value, *id_fields])
    return Entry(
        line=line,
        arxiv_id=arxiv_id,
        doi="" if arxiv_id else doi_value,
        title=text_clean(title, TITLE_MAX),
        abstract=text_clean(abstract, ABSTRACT_MAX),
        added_at=added_at,
        zotero_key=zotero_key,
    )


def date_parse(value: str) -> dt.datetime | None:
    """A date an export wrote when the entry was added (ISO 8601, or RIS's 2023/09/12/00:16:04)."""
    text = (value or "").strip().replace("/", "-")
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[T -](\d{2}):(\d{2})(?::(\d{2}))?)?", text)
    if not match:
        return None
    parts = [int(p) if p else 0 for p in match.groups()]
    try:
        year, month, day, hour, minute, second = parts[:6]
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError:
        return None
