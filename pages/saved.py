"""A reader's reading list: save and unsave a paper, list them, export BibTeX and RIS.

Saving counts as "more like this": it records the reader's Feedback `more` on the paper
(`digests.feedback.feedback_record`), which the scorer reads as a liked paper. Unsaving takes the
paper off the list only; the "more" stays, as a press of "more like this" would.

The exports carry what a reference manager needs to find the paper again: the arXiv id as
`eprint` with `archivePrefix = {arXiv}` and `primaryClass`, the DOI (the journal's if arXiv knows
it, else arXiv's own DataCite DOI 10.48550/arXiv.<id>) and the abstract page's URL. Paper text is
untrusted: each value is escaped for its format so no title can end an entry or add a field.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import transaction

from digests.feedback import feedback_record
from digests.models import Feedback, Paper, SavedPaper
from subscribers.models import Subscriber

__all__ = [
    "bibtex_export",
    "paper_save",
    "paper_unsave",
    "ris_export",
    "saved_ids",
    "saved_papers",
]

_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    # Not \{ and \}: BibTeX counts braces even behind a backslash, so one would end the field.
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_BIBTEX_ESCAPE = re.compile("|".join(re.escape(c) for c in _BIBTEX_SPECIAL))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def paper_save(*, subscriber: Subscriber, paper: Paper) -> SavedPaper:
    """Put the paper on the reader's list (once) and count it as "more like this"."""
    with transaction.atomic():
        saved, _created = SavedPaper.objects.get_or_create(subscriber=subscriber, paper=paper)
        feedback_record(subscriber=subscriber, paper=paper, signal=Feedback.Signal.MORE)
    return saved


def paper_unsave(*, subscriber: Subscriber, paper: Paper) -> bool:
    """Take the paper off the list; False if it was not on it."""
    deleted, _by_model = SavedPaper.objects.filter(subscriber=subscriber, paper=paper).delete()
    return deleted > 0


def saved_papers(subscriber: Subscriber) -> list[SavedPaper]:
    """The reader's list, last saved first, with the papers: one query."""
    return list(
        SavedPaper.objects.filter(subscriber=subscriber)
        .select_related("paper")
        .order_by("-saved_at", "-pk")
    )


def saved_ids(subscriber: Subscriber | None, paper_ids: list[int]) -> set[int]:
    """Which of these papers the reader saved (none for a visitor, without a query)."""
    if subscriber is None or not paper_ids:
        return set()
    return set(
        SavedPaper.objects.filter(subscriber=subscriber, paper_id__in=paper_ids).values_list(
            "paper_id", flat=True
        )
    )


def _one_line(text: str) -> str:
    """Untrusted text on one line: control and bidi characters out, whitespace collapsed."""
    return " ".join(_CONTROL.sub("", text).split())


def _doi(paper: Paper) -> str:
    return paper.doi.strip() or f"10.48550/arXiv.{paper.arxiv_id}"


def _year(paper: Paper) -> str:
    when = paper.published or paper.announce_date or paper.first_announced
    return str(when.year) if when else ""


def _bibtex_value(text: str) -> str:
    return _BIBTEX_ESCAPE.sub(lambda m: _BIBTEX_SPECIAL[m.group(0)], _one_line(text))


def _bibtex_key(paper: Paper, taken: set[str]) -> str:
    """Last name of the first author, year, first word of the title: `lovelace2026beyond`."""
    first = paper.author_names[0].split()[-1] if paper.author_names else "anon"
    word = next((w for w in re.findall(r"[^\W_]{3,}", paper.title)), "paper")
    base = "".join(
        c
        for c in unicodedata.normalize("NFKD", f"{first}{_year(paper)}{word}").lower()
        if c.isascii() and c.isalnum()
    )
    base = base or f"arxiv{paper.arxiv_id.replace('.', '').replace('/', '')}"
    key, n = base, 0
    while key in taken:
        n += 1
        key = f"{base}{chr(ord('a') + (n - 1) % 26)}{(n - 1) // 26 or ''}"
    taken.add(key)
    return key


def bibtex_export(papers: list[Paper]) -> str:
    """The papers as BibTeX @misc entries, in the order given."""
    taken: set[str] = set()
    entries = []
    for paper in papers:
        fields = [
            ("title", paper.title),
            ("author", " and ".join(_one_line(name) for name in paper.author_names)),
            ("year", _year(paper)),
            ("eprint", paper.arxiv_id),
            ("archivePrefix", "arXiv"),
            ("primaryClass", paper.primary_category),
            ("doi", _doi(paper)),
            ("url", f"https://arxiv.org/abs/{paper.arxiv_id}"),
            ("abstract", paper.abstract),
            ("note", paper.comment),
            ("journal", paper.journal_ref),
        ]
        lines = [
            f"  {name} = {{{_bibtex_value(value)}}}" for name, value in fields if value.strip()
        ]
        entries.append(f"@misc{{{_bibtex_key(paper, taken)},\n" + ",\n".join(lines) + "\n}\n")
    return "\n".join(entries)


def ris_export(papers: list[Paper]) -> str:
    """The papers as RIS records (type UNPB, a preprint), in the order given."""
    records = []
    for paper in papers:
        tags: list[tuple[str, str]] = [("TY", "UNPB"), ("TI", paper.title)]
        tags += [("AU", name) for name in paper.author_names]
        tags += [
            ("PY", _year(paper)),
            ("DA", paper.announce_date.strftime("%Y/%m/%d") if paper.announce_date else ""),
            ("AB", paper.abstract),
            ("DO", _doi(paper)),
            ("UR", f"https://arxiv.org/abs/{paper.arxiv_id}"),
            ("AN", f"arXiv:{paper.arxiv_id}"),
            ("DB", "arXiv"),
            ("N1", paper.comment),
            ("JO", paper.journal_ref),
        ]
        tags += [("KW", category) for category in paper.categories]
        lines = [f"{tag}  - {_one_line(value)}" for tag, value in tags if _one_line(value)]
        records.append("\r\n".join([*lines, "ER  - "]) + "\r\n")
    return "\r\n".join(records)
