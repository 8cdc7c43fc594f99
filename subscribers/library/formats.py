"""Read a library file: BibTeX, RIS, CSL-JSON (Zotero's, Mendeley's) or a plain list of ids.

`library_file_read` tells the format from the text, reads it with a well-kept parser
(`pybtex`, `rispy`, the standard `json`), and returns the entries with the line each
starts on, and the entries it had to leave out, each with its line and reason. A file it cannot
read at all (empty, too large, not text, none of these formats) raises `LibraryFileError` with a
sentence for the reader.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import rispy
from pybtex.database.input import bibtex
from pybtex.scanner import PybtexError

from subscribers.library.entries import Entry, arxiv_id_find, date_parse, doi_clean, entry_make

__all__ = [
    "MAX_BYTES",
    "MAX_ENTRIES",
    "LibraryFile",
    "LibraryFileError",
    "Rejected",
    "library_file_read",
]

MAX_BYTES = 16 * 1024 * 1024  # a 5,000-entry export with abstracts is about 10 MB
MAX_ENTRIES = 20_000

_BIB_START = re.compile(r"^[ \t]*@[ \t]*(\w+)[ \t]*[{(][ \t]*([^,\s]*)", re.MULTILINE)
_BIB_SKIP = {"comment", "string", "preamble"}
_RIS_START = re.compile(r"^TY  - ", re.MULTILINE)


class LibraryFileError(ValueError):
    """A file that cannot be imported at all; the message says why, for the reader."""


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class LibraryFile:
    format: str  # "bibtex", "ris", "csl-json", "list"
    entries: list[Entry] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def _decode(data: bytes) -> str:
    if not data.strip():
        raise LibraryFileError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise LibraryFileError(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_BYTES // 1024 // 1024} MB. Export without attachments and notes, "
            "or one collection at a time."
        )
    if b"\x00" in data[:4096]:
        raise LibraryFileError("This is not a text file: export BibTeX, RIS or CSL-JSON.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # older RIS and BibTeX exports


class _Lines:
    """The line (1-based) of an offset in a text, by bisection over its newlines."""

    def __init__(self, text: str) -> None:
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def __call__(self, offset: int) -> int:
        return bisect.bisect_left(self.newlines, offset) + 1


def _bibtex(text: str) -> LibraryFile:
    """Each `@entry` read alone (pybtex, strict): a broken one is rejected with its line and
    never costs the others; `@string` macros apply to the entries after them."""
    read = LibraryFile("bibtex")
    line_of = _Lines(text)
    macros: dict[str, str] = {}
    for match in _BIB_START.finditer(text):
        kind = match.group(1).lower()
        line = line_of(match.start())
        end = text.find("\n@", match.end())
        chunk = text[match.start() : len(text) if end < 0 else end + 1]
        parser = bibtex.Parser()
        parser.macros.update(macros)
        try:
            parsed = parser.parse_string(chunk)
        except PybtexError as error:
            if kind not in _BIB_SKIP:
                read.rejected.append(Rejected(line, f"not read as BibTeX: {error}"[:200]))
            continue
        macros = dict(parser.macros)
        for entry in parsed.entries.values():
            read.entries.append(_bibtex_entry(line, entry.fields))
    return read


def _bibtex_entry(line: int, fields: Any) -> Entry:
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower()
    added = fields.get("date-added") or fields.get("added-at") or fields.get("timestamp") or ""
    return entry_make(
        line=line,
        eprint=fields.get("eprint", "") if prefix in ("arxiv", "") else "",
        id_fields=[fields.get(k, "") for k in ("url", "number", "journal", "note", "arxivid")],
        doi=fields.get("doi", ""),
        title=fields.get("title", ""),
        abstract=fields.get("abstract", ""),
        added_at=date_parse(added),
    )


def _ris(text: str) -> LibraryFile:
    line_of = _Lines(text)
    lines = [line_of(m.start()) for m in _RIS_START.finditer(text)]
    try:
        records = rispy.loads(text, skip_unknown_tags=True)
    except (ValueError, KeyError, IndexError) as error:
        raise LibraryFileError(f"This RIS file cannot be read: {error}") from None
    read = LibraryFile("ris")
    for index, record in enumerate(records):
        line = lines[index] if index < len(lines) else 0
        urls = record.get("urls") or []
        notes = record.get("notes") or []
        read.entries.append(
            entry_make(
                line=line,
                id_fields=[*urls, *notes, record.get("number", ""), record.get("id", "")],
                doi=record.get("doi", ""),
                title=record.get("title") or record.get("primary_title") or "",
                abstract=record.get("abstract", ""),
                added_at=date_parse(record.get("access_date", "")),
            )
        )
    return read


def _json_items(text: str) -> Iterator[tuple[int, Any]]:
    """Each item of a JSON array with the line it starts on (or the `items` of an object)."""
    decoder = json.JSONDecoder()
    line_of = _Lines(text)
    start = len(text) - len(text.lstrip())
    if text[start:].startswith("{"):
        whole, _end = decoder.raw_decode(text, start)
        items = whole.get("items") if isinstance(whole, dict) else None
        if not isinstance(items, list):
            raise LibraryFileError("This JSON is not CSL-JSON: expected a list of items.")
        yield from ((0, item) for item in items)
        return
    position = start + 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text):
            raise LibraryFileError("This JSON cannot be read: it ends before its closing ].")
        if text[position] == "]":
            return
        item, end = decoder.raw_decode(text, position)
        yield line_of(position), item
        position = end


def _csl_json(text: str) -> LibraryFile:
    read = LibraryFile("csl-json")
    try:
        items = list(_json_items(text))
    except json.JSONDecodeError as error:
        raise LibraryFileError(
            f"This JSON cannot be read: {error.msg} at line {error.lineno}."
        ) from None
    for line, item in items:
        if not isinstance(item, dict):
            read.rejected.append(Rejected(line, "not a CSL-JSON item"))
            continue
        fields = {k: v if isinstance(v, str) else "" for k, v in item.items()}
        read.entries.append(
            entry_make(
                line=line,
                id_fields=[
                    fields.get(k, "")
                    for k in ("URL", "number", "container-title", "note", "archive_location", "id")
                ],
                doi=fields.get("DOI", ""),
                title=fields.get("title", ""),
                abstract=fields.get("abstract", ""),
            )
        )
    return read


def _plain_list(text: str) -> LibraryFile:
    read = LibraryFile("list")
    for number, raw in enumerate(text.splitlines(), start=1):
        value = raw.strip()
        if not value or value.startswith("#"):
            continue
        arxiv_id = arxiv_id_find([value], bare=True)
        doi = "" if arxiv_id else doi_clean(value)
        if arxiv_id or doi:
            read.entries.append(Entry(line=number, arxiv_id=arxiv_id, doi=doi))
        else:
            read.rejected.append(Rejected(number, "not an arXiv id, arXiv URL or DOI"))
    return read


def library_file_read(data: bytes) -> LibraryFile:
    """The entries of a library file, in the format its text shows."""
    text = _decode(data)
    head = text.lstrip()[:1]
    if head in "[{":
        read = _csl_json(text)
    elif _RIS_START.search(text[:20000]):
        read = _ris(text)
    elif _BIB_START.search(text):
        read = _bibtex(text)
    else:
        read = _plain_list(text)
        if not read.entries:
            raise LibraryFileError(
                "This file is not BibTeX, RIS, CSL-JSON or a list of arXiv ids, arXiv URLs or DOIs."
            )
    if len(read.entries) > MAX_ENTRIES:
        raise LibraryFileError(f"The file holds more than {MAX_ENTRIES} entries; split it.")
    return read
