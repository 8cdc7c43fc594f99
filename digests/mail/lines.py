"""Compiled HTML kept with its lines already wrapped, and joined so that the e-mail's lines
come out as `mail_html.lines_wrapped` would wrap the whole e-mail.

`lines_wrapped` breaks a line after every `<div` and `<a`, then wraps each line longer than
LINE_BYTES on its own. A compiled piece (a layout, a paper's card) with markers where readers'
values go is broken the same way once; its lines without a marker that lie wholly inside it are
wrapped then and kept. Only the lines holding a reader's value, and those where one piece meets
the next, are measured when an e-mail is joined, and wrapped then if they are too long (a long
brief, many reasons): byte for byte what wrapping the whole e-mail gives.
"""

from __future__ import annotations

import re

from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT

from digests.mail_html import LINE_BYTES, line_wrapped, lines_broken

__all__ = ["Atom", "LinePlan", "atom_value", "atoms_joined"]

# A piece of the e-mail: (text, bytes, bytes of its first line, bytes of its last line, where
# its last line begins in `text` or -1 when it holds no line break).
Atom = tuple[str, int, int, int, int]


def _size(text: str) -> int:
    return len(text.encode())


def atom_value(text: str) -> Atom:
    """A reader's value (never a line break in it) as a piece."""
    size = len(text) if text.isascii() else len(text.encode())
    return (text, size, size, size, -1)


def _atom(text: str) -> Atom:
    if "\n" not in text:
        return atom_value(text)
    first, last = text.index("\n"), text.rindex("\n") + 1
    return (text, _size(text), _size(text[:first]), _size(text[last:]), last)


def _wrapped_inside(text: str) -> str:
    """`text` with its lines wrapped but the first and the last (they go on with what is
    before and after it)."""
    if text.count("\n") < 2:
        return text
    first, last = text.index("\n"), text.rindex("\n")
    middle = text[first + 1 : last].split("\n")
    return (
        text[: first + 1]
        + "\n".join(line_wrapped(x) if _size(x) > LINE_BYTES else x for x in middle)
        + text[last:]
    )


class LinePlan:
    """Compiled HTML cut at its markers, broken into lines as `lines_wrapped` breaks them, each
    line that no reader's value touches wrapped already."""

    __slots__ = ("atoms", "long", "size", "slots")

    def __init__(self, text: str, markers: dict[str, str]) -> None:
        broken = lines_broken(text)
        present = {m: s for m, s in markers.items() if m in broken}
        pattern = "(" + "|".join(map(re.escape, present)) + ")"
        parts = re.split(pattern, broken) if present else [broken]
        self.atoms = [_atom(_wrapped_inside(p)) for p in parts[::2]]
        self.slots = [present[p] for p in parts[1::2]]
        self.size = sum(a[1] for a in self.atoms)
        # a line past RFC 5322's limit even wrapped (a tag's rest kept whole): measure as sent
        self.long = any(_too_long(a[0]) for a in self.atoms)

    def atoms_filled(self, values: dict[str, Atom]) -> list[Atom]:
        """The plan's pieces with each slot's value, in order."""
        atoms = self.atoms
        out = [atoms[0]]
        for n, slot in enumerate(self.slots, start=1):
            out.append(values[slot])
            out.append(atoms[n])
        return out

    def filled_size(self, sizes: dict[str, int]) -> int:
        return self.size + sum(sizes[slot] for slot in self.slots)


def _too_long(text: str) -> bool:
    return any(_size(line) > RFC5322_EMAIL_LINE_LENGTH_LIMIT for line in text.split("\n"))


def atoms_joined(atoms: list[Atom], *, edges: bool, notes: list[str] | None = None) -> Atom:
    """The pieces joined into one, each line made of more than one piece wrapped if too long
    (the first and the last line too when `edges`: the whole e-mail; else they go on). A line
    still past RFC 5322's limit once wrapped is noted in `notes`."""
    out: list[str] = [""]
    total = 0
    line = 0  # bytes of the current line so far
    start, offset = 0, 0  # where the current line begins: out[start][offset:]
    first = -1  # bytes of the first line, once it ended
    for text, size, head, tail, last in atoms:
        total += size
        if last < 0:
            out.append(text)
            line += size
            continue
        line += head
        if line > LINE_BYTES and (edges or first >= 0):
            total += _line_rewrapped(out, start, offset, text[: text.index("\n")], notes)
            out.append(text[text.index("\n") :])
            start, offset = len(out) - 1, last - text.index("\n")
        else:
            out.append(text)
            start, offset = len(out) - 1, last
        if first < 0:
            first = line
        line = tail
    if edges and line > LINE_BYTES:
        total += _line_rewrapped(out, start, offset, "", notes)
    text = "".join(out)
    if first < 0:
        return (text, total, total, total, -1)
    return (text, total, first, line, text.rindex("\n") + 1)


def _line_rewrapped(
    out: list[str], start: int, offset: int, head: str, notes: list[str] | None
) -> int:
    """Replace the line from out[start][offset:] to the end of `out` (then `head`) by its
    wrapping; return the bytes that added."""
    line = out[start][offset:] + "".join(out[start + 1 :]) + head
    wrapped = line_wrapped(line)
    if notes is not None and _too_long(wrapped):
        notes.append(wrapped[:80])
    out[start] = out[start][:offset]
    del out[start + 1 :]
    out.append(wrapped)
    return _size(wrapped) - _size(line)
