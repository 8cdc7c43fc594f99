"""Seed papers given by DOI: a bioRxiv or medRxiv preprint fetched with `details/<server>/<DOI>`.

The two servers share the DOI prefixes (`10.1101/…`, and `10.64898/…` since late 2025), so a
DOI is asked of the server its shape suggests first (medRxiv's end in 8 digits, bioRxiv's in 6),
then of the other; a DOI neither holds is missing. What is found is kept as a `Paper` of no
announcement day (as an arXiv seed is): no day's query sees it, and a window that later
carries it gives it its day (`store.preprints_upsert`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import requests

from digests.arxiv.records import RecordError
from digests.biorxiv.client import BiorxivSession, doi_fetch
from digests.biorxiv.records import Preprint, preprint_read
from digests.models import Paper
from subscribers.profile_fields import PREPRINT_DOI_RE

__all__ = ["PREPRINT_DOI", "PreprintSeeds", "preprint_doi", "preprint_seeds_fetch"]

log = logging.getLogger(__name__)

PREPRINT_DOI = PREPRINT_DOI_RE  # one definition: the profile's seed field checks it too
_MEDRXIV_SHAPE = re.compile(r"\.\d{8}$")  # 10.1101/2021.12.05.21267037: medRxiv's numbering


def preprint_doi(value: str) -> bool:
    """Whether `value` (lower case, no version) is a bioRxiv/medRxiv DOI."""
    return bool(PREPRINT_DOI.match(value))


@dataclass
class PreprintSeeds:
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _servers(doi: str) -> tuple[str, str]:
    return ("medrxiv", "biorxiv") if _MEDRXIV_SHAPE.search(doi) else ("biorxiv", "medrxiv")


def _versions(session: BiorxivSession, doi: str) -> list[Preprint]:
    """Every readable version the servers hold of `doi`, oldest first; [] when none holds it.

    A 4xx other than 429 refuses the DOI itself: not a preprint the server has. Transient
    failures are retried by the client, then raise `BiorxivUnavailable`.
    """
    for server in _servers(doi):
        try:
            page = doi_fetch(session, server=server, doi=doi)
        except requests.HTTPError as error:
            if error.response is not None and 400 <= error.response.status_code < 500:
                continue
            raise
        versions: dict[int, Preprint] = {}
        for record in page.records:
            try:
                preprint = preprint_read(record, server=server)
            except RecordError as problem:
                log.warning("seed %s: a record skipped: %s", doi, problem)
                continue
            if preprint.doi.lower() == doi:
                versions[preprint.version] = preprint
        if versions:
            return [versions[v] for v in sorted(versions)]
    return []


def _moment(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _seed_paper(doi: str, versions: list[Preprint]) -> Paper:
    """The latest version as a paper of no announcement day."""
    latest = versions[-1]
    return Paper(
        **{**latest.fields, "source": latest.server},
        arxiv_id=doi,
        version=latest.version,
        version_history=[p.version for p in versions[:-1]],
        announce_date=None,
        announce_type="",
        affiliations_version=latest.version,
        published=_moment(versions[0].posted) if versions[0].version == 1 else None,
        updated=_moment(latest.posted),
    )


def preprint_seeds_fetch(
    dois: Iterable[str], *, session: BiorxivSession | None = None
) -> PreprintSeeds:
    """Look each DOI up on bioRxiv, then medRxiv; keep what is found (a paper held meanwhile
    stays as it is). Raises `BiorxivUnavailable` when the API keeps failing; the DOIs
    already stored stay."""
    session = session or BiorxivSession()
    result = PreprintSeeds()
    for doi in dois:
        versions = _versions(session, doi)
        if not versions:
            result.missing.append(doi)
            continue
        Paper.objects.bulk_create([_seed_paper(doi, versions)], ignore_conflicts=True)
        result.found.append(doi)
    return result
