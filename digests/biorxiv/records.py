"""One bioRxiv or medRxiv record on its way to the database, every field validated or bounded.

A record of `details/<server>/<from>/<to>/<cursor>` is one version of one preprint:
`{"doi", "version", "date", "title", "authors": "Last, F.; Last, F. M.",
"author_corresponding", "author_corresponding_institution", "abstract", "category", "type",
"license", "published": "NA" | journal DOI, "funder": "NA" | [...] | absent, "server"}`.
Abstracts carry the flattening of their JATS source (`O_LI`…`C_LI` list items, `{beta}`,
run-in headings "BackgroundThe …"), cleaned here into plain text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from digests.arxiv.records import (
    MAX_ABSTRACT,
    MAX_AUTHORS,
    MAX_NAME,
    MAX_TITLE,
    VERSION_MAX,
    RecordError,
    RecordProblem,
    name_key,
)
from digests.biorxiv.subjects import subject_code
from digests.models import ResultType
from digests.text import clean_text

__all__ = [
    "Preprint",
    "abstract_cleaned",
    "authors_parsed",
    "preprint_read",
]

DOI_MAX = 128  # Paper.arxiv_id's length
_DOI = re.compile(r"^10\.\d{4,9}/[^\s\"<>]{1,100}$")
FIRST_DAY = dt.date(2013, 11, 1)  # bioRxiv opened in November 2013

# The servers' licence codes and the licences they name.
LICENCES = {
    "cc_by": "https://creativecommons.org/licenses/by/4.0/",
    "cc_by_nc": "https://creativecommons.org/licenses/by-nc/4.0/",
    "cc_by_nd": "https://creativecommons.org/licenses/by-nd/4.0/",
    "cc_by_nc_nd": "https://creativecommons.org/licenses/by-nc-nd/4.0/",
    "cc0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "cc0_ng": "https://creativecommons.org/publicdomain/zero/1.0/",
    "cc_no": "https://www.biorxiv.org/about-biorxiv",  # no reuse beyond reading: the terms
}
_TYPES = {
    "new results": ResultType.NEW,
    "confirmatory results": ResultType.CONFIRMATORY,
    "contradictory results": ResultType.CONTRADICTORY,
    "withdrawn": ResultType.WITHDRAWN,
}


@dataclass(frozen=True)
class Preprint:
    """One version of a preprint as Paper fields (`fields`) and what was cut (`problems`)."""

    doi: str
    version: int
    server: str
    posted: dt.date
    result_type: str
    fields: dict[str, Any]
    problems: tuple[RecordProblem, ...] = ()

    @property
    def withdrawn(self) -> bool:
        return self.result_type == ResultType.WITHDRAWN


# JATS flattening: what the API leaves of lists, section titles and small capitals.
_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "ge": "≥", "le": "≤", "pm": "±", "times": "×", "degrees": "°", "approx": "≈",
}  # fmt: skip
_SIGNS = {"[~]": "~", "[&le;]": "≤", "[&ge;]": "≥", "{+/-}": "±", "[&times;]": "×"}
_BRACED = re.compile(r"\{([A-Za-z]{1,12})\}")
_SECTION = re.compile(r"\s*O_ST_ABS\s*(.{0,80}?)\s*C_ST_ABS\s*")
_SMALL_CAPS = re.compile(r"O_SCPLOW(.{0,80}?)C_SCPLOW")
_ITEM_OPEN = re.compile(r"\s*(?:C_LIO_LI|O_LI)(?!NK)\s*")
_FIGURE = re.compile(r"O_(FIG|TBL)\b.*?(?:C_\1\b|$)", re.DOTALL)  # images and tables: links only
_ITEM_CLOSE = re.compile(r"\s*C_LI\b\s*")
_LEFTOVER = re.compile(r"\b[OC]_[A-Z]{2,10}(?:O_[A-Z]{2,10})?")
# Run-in section headings the flattening glues to their first word: "BackgroundThe …".
_HEADINGS = (
    "Abstract|Aims?|Availability and [Ii]mplementation|Background|Conclusions?|Context|Contact|"
    "Design|Discussion|Evidence|Findings|Funding|Importance|Implications|Interpretation|"
    "Interventions?|Introduction|Limitations|Main [Oo]utcomes? and [Mm]easures?|Measurements|"
    "Methods?|Methodology|Motivation|Objectives?|Outcomes?|Participants|Purpose|Rationale|"
    "Results?|Setting|Significance|Summary|Supplementary [Ii]nformation|Trial [Rr]egistration|"
    "Withdrawal [Ss]tatement"
)
_RUN_IN = re.compile(rf"(?:(?<=^)|(?<=[.:;!?] ))({_HEADINGS})(?=[A-Z0-9])")
# A line opening with a few words ending as a heading does: "Significance StatementSmall …",
# "In briefWe …", "Chemical compounds used in this articleCannabidiol …".
# "ABSTRACTWe …", "What this study addsThis …", "Ethics and disseminationThe …".
_LINE_HEADING = re.compile(
    r"^((?:[A-Za-z-]+ ){0,6}(?:[Ss]tatement|[Ss]ummary|Teaser|[Bb]rief|Highlights|[Aa]bstract"
    r"|article)|(?:[A-Za-z,-]+ ){1,8}[a-z]{3,}|[A-Z]{4,}(?: [A-Z]{2,}){0,5})(?=[A-Z][a-z])"
)


def abstract_cleaned(raw: str | None) -> str:
    """The abstract as plain text: headings as "Background: …", list items as "• …",
    `{beta}` as β; what remains of the markup dropped."""
    text = raw or ""
    text = _FIGURE.sub("\n", text)
    text = _SMALL_CAPS.sub(lambda m: m.group(1).upper(), text)
    text = _SECTION.sub(lambda m: f"\n{m.group(1).rstrip(':')}: ", text)
    text = _ITEM_OPEN.sub("\n• ", text)
    text = _ITEM_CLOSE.sub(" ", text)
    text = _LEFTOVER.sub(" ", text)
    text = _BRACED.sub(lambda m: _GREEK.get(m.group(1), m.group(1)), text)
    for token, sign in _SIGNS.items():
        text = text.replace(token, sign)
    lines = [
        _LINE_HEADING.sub(r"\1: ", _RUN_IN.sub(r"\1: ", line.strip())) for line in text.splitlines()
    ]
    return clean_text(" ".join(line for line in lines if line))


def _initials_agree(given: str, full_first: str) -> bool:
    """ "J. G." (a list's initials) agrees with "Jeremiah G" (the corresponding author's)."""
    initials = [p[0].lower() for p in given.replace(".", " ").replace("-", " ").split() if p]
    names = [p[0].lower() for p in full_first.replace(".", " ").replace("-", " ").split() if p]
    return bool(initials) and bool(names) and initials[0] == names[0]


def authors_parsed(
    raw: str | None, corresponding: str = "", institution: str = ""
) -> list[dict[str, Any]]:
    """ "Johnson, T. J.; Shank, J. M." → [{"name": "T. J. Johnson", "affiliations": []}, …];
    the corresponding author, found by last name and first initial, takes their full name
    and the record's institution (the only affiliation the record gives)."""
    authors: list[dict[str, Any]] = []
    for part in (raw or "").split(";")[:MAX_AUTHORS]:
        last, comma, given = (clean_text(p) for p in part.partition(","))
        name = f"{given} {last}".strip() if comma else last
        if name:
            authors.append({"name": name[:MAX_NAME], "affiliations": []})
    corresponding = clean_text(corresponding)[:MAX_NAME]
    institution = clean_text(institution)[:MAX_NAME]
    if not corresponding:
        return authors
    first, _, last = corresponding.rpartition(" ")
    for author, part in zip(authors, (raw or "").split(";"), strict=False):
        listed_last, _, given = (clean_text(p) for p in part.partition(","))
        if name_key(listed_last) == name_key(last) and _initials_agree(given, first):
            author["name"] = corresponding
            author["affiliations"] = [institution] if institution else []
            break
    else:
        if institution:  # named, not listed: the institution still belongs to the paper
            authors.append({"name": corresponding, "affiliations": [institution]})
    return authors


def _text(record: dict, name: str) -> str:
    value = record.get(name)
    return value if isinstance(value, str) else ""


def _doi(value: object, name: str) -> str:
    text = clean_text(value if isinstance(value, str) else "")
    if not _DOI.match(text) or len(text) > DOI_MAX:
        raise RecordError(f"{name} is not a DOI: {text[:60]!r}")
    return text


def preprint_read(record: object, *, server: str) -> Preprint:
    """Validate one record; RecordError when it cannot be stored at all (no DOI, version,
    date or title); fields too long are cut and said in `problems`."""
    if not isinstance(record, dict):
        raise RecordError(f"a record is not an object: {str(record)[:60]!r}")
    doi = _doi(record.get("doi"), "doi")
    try:
        version = int(str(record.get("version", "")).strip())
    except ValueError:
        raise RecordError(f"{doi}: no version number") from None
    if not 1 <= version <= VERSION_MAX:
        raise RecordError(f"{doi}: implausible version {version}")
    try:
        posted = dt.date.fromisoformat(_text(record, "date").strip())
    except ValueError:
        raise RecordError(f"{doi}: not a date: {_text(record, 'date')[:20]!r}") from None
    if not FIRST_DAY <= posted <= dt.date.today() + dt.timedelta(days=7):
        raise RecordError(f"{doi}: implausible date {posted}")
    problems: list[RecordProblem] = []

    def bounded(text: str, limit: int, name: str) -> str:
        if len(text) <= limit:
            return text
        problems.append(RecordProblem(doi, f"{len(text)} characters, cut to {limit}", name))
        return text[: limit - 1].rstrip() + "…"

    title = bounded(clean_text(_text(record, "title")), MAX_TITLE, "title")
    if not title:
        raise RecordError(f"{doi}: the record has no title")
    subject = subject_code(server, _text(record, "category"))
    published = clean_text(_text(record, "published"))
    if published.upper() == "NA":
        published = ""
    elif published and not _DOI.match(published):
        problems.append(RecordProblem(doi, "not a DOI: dropped", "published"))
        published = ""
    kind = clean_text(_text(record, "type")).lower()
    licence = clean_text(_text(record, "license")).lower()
    fields = {
        "source": server,
        "title": title,
        "abstract": bounded(abstract_cleaned(_text(record, "abstract")), MAX_ABSTRACT, "abstract"),
        "authors": authors_parsed(
            _text(record, "authors"),
            _text(record, "author_corresponding"),
            _text(record, "author_corresponding_institution"),
        ),
        "categories": [subject] if subject else [],
        "primary_category": subject,
        "doi": published,  # the journal's DOI, as arXiv's `doi` field: "published in …"
        "journal_ref": "",
        "comment": "",
        "license": LICENCES.get(licence, ""),
        "result_type": _TYPES.get(kind, ResultType.NONE),
    }
    return Preprint(
        doi=doi,
        version=version,
        server=server,
        posted=posted,
        result_type=str(fields["result_type"]),
        fields=fields,
        problems=tuple(problems),
    )
