"""The e-mail's HTML as it travels: lines short enough for 8bit, and its size on the wire.

Django sends a UTF-8 part 8bit unless a line is longer than RFC 5322's 998 bytes, and then
quoted-printable: for Chinese text that is three `=XX` per byte, about three times the size,
which pushes a digest past Gmail's clip. MJML writes its body on one long line, so the lines are
broken here where a break changes nothing on screen: first after the name of every `<div` and
`<a` (a break inside a tag; `lines_broken`), so that a line never runs from one block of the
e-mail into the next and a reader's own values (links, reasons) sit on short lines of their own;
then any line still longer than LINE_BYTES inside a tag (after its name or between attributes),
at a space of text, or between two non-ASCII characters with `<wbr>` (`line_wrapped`).

Every line is wrapped on its own, so the fast path (`digests.mail.compose`) keeps a paper's card
with its lines already wrapped and wraps again only the few lines holding a reader's values.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT, SafeMIMEText

__all__ = ["LINE_BYTES", "html_wire_bytes", "line_wrapped", "lines_broken", "lines_wrapped"]

LINE_BYTES = 900  # under RFC 5322's 998, with room for a tag broken late
# A line may begin inside a tag (after a `<div` broken by `lines_broken`) and end in one: the
# rest of a tag at its start and a tag cut at its end are tokens of their own, never cut inside.
_TOKENS = re.compile(r"<!--.*?-->|<[^>]*>|<[^>]*\Z|\A[^<]*>|[^<]+", re.DOTALL)
_BREAKS = re.compile(r"<(?:div|a)(?=[ />])")
_TAG_NAME = re.compile(r"</?[A-Za-z][^\s/>]*")


def _size(text: str) -> int:
    return len(text.encode())


def _text_pieces(text: str, room: int) -> list[str]:
    """A text run cut into lines: at a space when there is one, else between two non-ASCII
    characters (`<wbr>` is a break opportunity CJK text already has)."""
    pieces = []
    while _size(text) > room:
        cut = _cut_point(text, room)
        if cut is None:
            break
        head, text = text[:cut], text[cut:]
        if text.startswith(" "):
            pieces.append(head + "\n")
            text = text[1:]
        else:
            pieces.append(head + "<wbr\n>")
        room = LINE_BYTES
    pieces.append(text)
    return pieces


def _cut_point(text: str, room: int) -> int | None:
    end = len(text.encode()[:room].decode(errors="ignore"))
    space = text.rfind(" ", 1, end)
    if space > 0:
        return space
    for i in range(end - 1, 0, -1):
        if ord(text[i - 1]) > 127 and ord(text[i]) > 127:
            return i
    return None


def line_wrapped(line: str) -> str:
    """One line (no newline in it) cut into lines of at most about LINE_BYTES bytes."""
    tokens = _TOKENS.findall(line)
    sizes = [len(t) for t in tokens] if line.isascii() else [len(t.encode()) for t in tokens]
    ends = list(accumulate(sizes))  # bytes up to the end of each token
    out: list[str] = []
    used = 0  # bytes on the line being written
    done = 0  # bytes of the tokens written
    i = 0
    while i < len(tokens):
        fitting = bisect_right(ends, done + LINE_BYTES - used, i)  # the tokens that fit, at once
        if fitting > i:
            out.append("".join(tokens[i:fitting]))
            used += ends[fitting - 1] - done
            done = ends[fitting - 1]
            i = fitting
            if i == len(tokens):
                break
        token, size = tokens[i], sizes[i]
        if token.startswith("<!"):
            # An Outlook conditional (`<!--[if mso | IE]><table …><![endif]-->`): broken after
            # the name of the first tag inside it, as a tag is; a plain comment stays whole.
            name = _TAG_NAME.search(token, 4) if token.startswith("<!--[if") else None
            if name:
                out.append(token[: name.end()] + "\n" + token[name.end() :])
                used = _size(token[name.end() :])
            else:
                out.append(token)
                used += size
        elif i == 0 and not token.startswith("<") and token.endswith(">"):
            out.append(token)  # the rest of a tag broken before this line: kept whole
            used += size
        elif token.startswith("<"):
            name = _TAG_NAME.match(token)
            cut = name.end() if name else 1
            if cut < len(token):
                out.append(token[:cut] + "\n" + token[cut:])
                used = _size(token[cut:])
            else:  # a tag's name at the end of the line: it stays there
                out.append(token)
                used += size
        else:
            pieces = _text_pieces(token, LINE_BYTES - used)
            out.extend(pieces)
            used = used + size if len(pieces) == 1 else _size(pieces[-1])
        done = ends[i]
        i += 1
    return "".join(out)


def lines_broken(html: str) -> str:
    """`html` with a line break after the name of every `<div` and `<a` tag."""
    return _BREAKS.sub("\\g<0>\n", html)


def lines_wrapped(html: str) -> str:
    """`html` with no line over LINE_BYTES bytes (but a tag's rest), rendering the same."""
    return "\n".join(
        line_wrapped(line) if _size(line) > LINE_BYTES else line
        for line in lines_broken(html).split("\n")
    )


def html_wire_bytes(html: str) -> int:
    """The bytes the HTML part takes in the message, encoded as Django will send it: as it is
    (8bit) when no line passes RFC 5322's 998 bytes, else quoted-printable."""
    encoded = html.encode()
    if (
        len(encoded) <= RFC5322_EMAIL_LINE_LENGTH_LIMIT
        or max(map(len, encoded.splitlines())) <= RFC5322_EMAIL_LINE_LENGTH_LIMIT
    ):
        return len(encoded)
    payload = SafeMIMEText(html, "html", "utf-8").get_payload()
    return len(str(payload).encode())
