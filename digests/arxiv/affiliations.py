"""Affiliations from a paper's own first page, where the API has none (the usual case).

arXiv's HTML rendering (LaTeXML) marks each author as `ltx_creator ltx_role_author`, the name
as `ltx_personname`, and affiliations as `ltx_role_affiliation` / `ltx_affiliation` inside it.
Only what the page marks is taken: a paper with none found shows none, never a guess.

What LaTeXML puts inside a name or an affiliation that is not part of it is dropped whole, at
any depth: footnotes and `\\thanks` notes (`ltx_note`, with their `ltx_note_mark`,
`ltx_note_outer` > `ltx_note_content` > `ltx_note_type` parts), superscript marks
(`\\textsuperscript{1}` as `sup.ltx_sup`; `$^{1}$` as a `math` whose alttext is `{}^{1}`), and
the label newer pages print before a contact (`ltx_contact_name`, "Affiliation: ", hidden by
arXiv's style sheet). Everything else inside them (italics, `&amp;`) is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from html.parser import HTMLParser

import requests
from django.conf import settings
from django.utils import timezone

from digests.arxiv.client import ArxivUnavailable, PoliteSession, polite_retry
from digests.arxiv.records import name_key
from digests.models import Paper
from digests.text import clean_text

__all__ = ["affiliations_fill", "affiliations_needed", "affiliations_parse"]

log = logging.getLogger(__name__)

_AFFILIATION_CLASSES = {"ltx_role_affiliation", "ltx_affiliation", "ltx_author_affiliation"}
_MARK_CLASSES = {
    "ltx_note",
    "ltx_note_mark",
    "ltx_note_outer",
    "ltx_note_content",
    "ltx_note_type",
    "ltx_sup",
    "ltx_contact_name",
}
_VOID_TAGS = {"br", "img", "meta", "link", "input", "hr"}


def _is_mark(tag: str, classes: set[str], attrs: list[tuple[str, str | None]]) -> bool:
    """Whether the element is a note, a mark or a label rather than a name's or an
    affiliation's own text: a footnote or thanks note, a superscript, or maths that is only a
    superscript on nothing (LaTeXML writes `$^{1}$`'s alttext as `{}^{1}`)."""
    if tag == "sup" or classes & _MARK_CLASSES:
        return True
    if tag == "math":
        alttext = (dict(attrs).get("alttext") or "").replace(" ", "")
        return alttext.startswith(("{}^", "^"))
    return False


class _AuthorBlockParser(HTMLParser):
    """Collect (author name, [affiliations]) from the LaTeXML author blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.authors: list[tuple[str, list[str]]] = []
        self._stack: list[set[str]] = []
        self._author_depth: int | None = None
        self._name_depth: int | None = None
        self._affiliation_depth: int | None = None
        self._mark_depth: int | None = None  # inside a note or mark: its text is skipped
        self._name: list[str] = []
        self._affiliation: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            if tag == "br" and self._name_depth is not None and self._mark_depth is None:
                self._name.append("\n")
            return
        classes = set((dict(attrs).get("class") or "").split())
        self._stack.append(classes)
        depth = len(self._stack)
        if "ltx_creator" in classes and "ltx_role_author" in classes:
            self._author_depth = depth
            self.authors.append(("", []))
        elif self._author_depth is not None and self._mark_depth is None:
            capturing = self._name_depth is not None or self._affiliation_depth is not None
            if capturing and _is_mark(tag, classes, attrs):
                self._mark_depth = depth
            elif "ltx_personname" in classes and self._name_depth is None:
                self._name_depth, self._name = depth, []
            elif classes & _AFFILIATION_CLASSES and self._affiliation_depth is None:
                self._affiliation_depth, self._affiliation = depth, []

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_TAGS or not self._stack:
            return
        depth = len(self._stack)
        if depth == self._mark_depth:
            self._mark_depth = None
        elif depth == self._affiliation_depth:
            text = clean_text("".join(self._affiliation))
            if text and self.authors:
                self.authors[-1][1].append(text)
            self._affiliation_depth = None
        elif depth == self._name_depth:
            first_line = "".join(self._name).strip().split("\n")[0]
            name = clean_text(first_line)
            if self.authors:
                self.authors[-1] = (name, self.authors[-1][1])
            self._name_depth = None
        elif depth == self._author_depth:
            self._author_depth = None
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._mark_depth is not None:
            return
        if self._affiliation_depth is not None:
            self._affiliation.append(data)
        elif self._name_depth is not None:
            self._name.append(data)


def affiliations_parse(page: str) -> dict[str, list[str]]:
    """Each marked author's affiliations, by author name, from an arXiv HTML page."""
    parser = _AuthorBlockParser()
    parser.feed(page)
    parser.close()
    return {name: affiliations for name, affiliations in parser.authors if name and affiliations}


def affiliations_needed(paper: Paper) -> bool:
    """Whether the paper's page is still to be read: we hold no affiliations for its version."""
    return paper.affiliations_version is None or paper.affiliations_version < paper.version


def affiliations_fill(
    papers: Iterable[Paper], *, session: PoliteSession | None = None, limit: int | None = None
) -> int:
    """Read the HTML page of each paper whose version's affiliations we lack, in the order
    given, at most `limit` pages; return how many pages were read.

    A page's marked affiliations replace those held; a page without any (or no page) leaves
    those held from an earlier version as they are, and a paper with none without any. Each
    version's page is read once (`affiliations_version`), politely; a page that could not be
    fetched is tried again next time.
    """
    session = session or PoliteSession()
    read = 0
    for paper in papers:
        if not affiliations_needed(paper):
            continue
        if limit is not None and read >= limit:
            break
        url = f"{settings.ARXIV_HTML_URL.rstrip('/')}/{paper.versioned_id}"

        @polite_retry(attempts=3)
        def fetch(url: str = url) -> str | None:
            response = session.get(url)
            if response.status_code == 404:
                return None  # no HTML rendering for this paper
            response.raise_for_status()
            return response.text

        read += 1
        try:
            page = fetch()
        except (ArxivUnavailable, requests.RequestException) as error:
            log.warning("affiliations of %s not read: %s", paper.versioned_id, error)
            continue  # not marked as read: tried again next time
        found = {name_key(k): v for k, v in affiliations_parse(page or "").items()}
        if found:
            paper.authors = [
                {**author, "affiliations": found.get(name_key(author["name"]), [])}
                for author in paper.authors
            ]
        paper.affiliations_checked_at = timezone.now()
        paper.affiliations_version = paper.version
        Paper.objects.filter(pk=paper.pk, version=paper.version).update(
            authors=paper.authors,
            affiliations_checked_at=paper.affiliations_checked_at,
            affiliations_version=paper.version,
        )
    return read
