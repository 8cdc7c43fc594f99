"""Document frequencies of the last weeks' papers, read from the database, cached per day.

BM25's idf (`bm25`) counts a term's papers over `HISTORY_DAYS` days of announcements rather than
over the one day scored, so a term weighs about the same every day; the table is computed once
per day, paper count and newest paper, kept in memory and under DATA_DIR for the other processes.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Count, Max

from digests.models import Paper
from digests.scoring.bm25 import BM25_FEATURES, DocumentFrequencies

__all__ = ["HISTORY_DAYS", "document_frequencies"]

HISTORY_DAYS = 28
log = logging.getLogger(__name__)
_MEMORY: dict[tuple[dt.date, int, int], DocumentFrequencies] = {}


def _path(day: dt.date, count: int, last: int) -> Path:
    return Path(settings.DATA_DIR) / "scoring" / f"df-{day.isoformat()}-{count}-{last}.npz"


def _load(path: Path) -> DocumentFrequencies | None:
    try:
        with np.load(path) as saved:
            df = np.zeros(BM25_FEATURES, dtype=np.float32)
            df[saved["terms"]] = saved["counts"]
            return DocumentFrequencies(df, int(saved["n"]), float(saved["average_length"]))
    except (OSError, KeyError, ValueError):
        return None


def _save(path: Path, frequencies: DocumentFrequencies) -> None:
    terms = np.flatnonzero(frequencies.df).astype(np.int32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npz")
        np.savez_compressed(
            temporary,
            terms=terms,
            counts=frequencies.df[terms],
            n=frequencies.n,
            average_length=frequencies.average_length,
        )
        temporary.replace(path)
    except OSError:
        log.warning("document frequencies not cached at %s", path, exc_info=True)


def document_frequencies(day: dt.date) -> DocumentFrequencies | None:
    """Document frequencies over the papers announced in the `HISTORY_DAYS` days up to `day`.

    None when there is no such paper (the scorer then counts the day's own papers).
    """
    papers = Paper.objects.filter(
        announce_date__range=(day - dt.timedelta(days=HISTORY_DAYS - 1), day)
    )
    # The count and the newest row's id key the cache: a day whose papers changed (a new
    # batch, or another database altogether) is counted afresh.
    stats = papers.aggregate(count=Count("pk"), last=Max("pk"))
    count, last = stats["count"], stats["last"] or 0
    if not count:
        return None
    key = (day, count, last)
    known = _MEMORY.get(key)
    if known is None:
        path = _path(day, count, last)
        known = _load(path) if path.exists() else None
        if known is None:
            titles, abstracts = [], []
            for title, abstract in papers.values_list("title", "abstract").iterator():
                titles.append(title)
                abstracts.append(abstract)
            known = DocumentFrequencies.of(titles, abstracts)
            _save(path, known)
        _MEMORY.clear()  # one day at a time in memory
        _MEMORY[key] = known
    return known
