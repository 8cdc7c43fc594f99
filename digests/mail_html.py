"""The e-mail's HTML as it travels: lines short enough for 8bit, and its size on the wire.

Django sends a UTF-8 part 8bit unless a line is longer than RFC 5322's 998 bytes, and then
quoted-printable: for Chinese text that is three `=XX` per byte, about three times the size,
which pushes a digest past Gmail's clip. MJML writes its body on one long line, so the lines are
broken here where a break changes nothing on screen: inside a tag (before `>` or between
attributes), at a space of text, or between two non-ASCII characters with `<wbr>`.
"""

from __future__ import annotations

import re

from django.core.mail.message import SafeMIMEText

__all__ = ["html_wire_bytes", "lines_wrapped"]

LINE_BYTES = 900  # under RFC 5322's 998, with room for a tag broken late
_TOKENS = re.compile(r"<!--.*?-->|<[^>]*>|[^<]+", re.DOTALL)
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


def _wrap_line(line: str) -> str:
    out: list[str] = []
    used = 0
    for token in _TOKENS.findall(line):
        size = _size(token)
        if used + size <= LINE_BYTES or token.startswith("<!"):
            out.append(token)
            used += size
        elif token.startswith("<"):
            name = _TAG_NAME.match(token)
            cut = name.end() if name else 1
            out.append(token[:cut] + "\n" + token[cut:])
            used = _size(token[cut:])
        else:
            pieces = _text_pieces(token, LINE_BYTES - used)
            out.extend(pieces)
            used = used + size if len(pieces) == 1 else _size(pieces[-1])
    return "".join(out)


def lines_wrapped(html: str) -> str:
    """`html` with no line over LINE_BYTES bytes, rendering the same."""
    return "\n".join(
        _wrap_line(line) if _size(line) > LINE_BYTES else line for line in html.split("\n")
    )


def html_wire_bytes(html: str) -> int:
    """The bytes the HTML part takes in the message, encoded as Django will send it."""
    payload = SafeMIMEText(html, "html", "utf-8").get_payload()
    return len(str(payload).encode())
