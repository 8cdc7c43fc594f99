"""Search over the papers we hold: title, authors and abstract, ranked, filtered.

One function, `paper_search`, with two backends chosen by the connection's vendor:
PostgreSQL's full-text search (the stored `search_document` tsvector and its GIN index, ranked by
`ts_rank` with the title weighing most) together with a trigram match of the author names
(`search_authors`, pg_trgm's word similarity, so "Lovelac" finds Ada Lovelace); SQLite's FTS5
table in the embedded mode (BM25 over the same three columns). Both are built by migration
`digests.0016_paper_search_index`. The query never reaches either engine as syntax: it is cut
into words, and the words are matched all together (AND), so operators, quotes and stray
punctuation mean nothing and cannot fail.

A signed-in reader may sort the results by their relevance to their profile: the scorer's
figure for that reader over the result set (`profile_relevance`, read-only).
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.db import connection, connections, models
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from digests.models import Paper
from digests.readings import latest_issue_date
from digests.scoring.history import document_frequencies
from digests.scoring.inputs import paper_rows, profile_rows, topic_parents
from digests.scoring.paper_index import PaperIndex
from digests.scoring.scores import scores_compute
from subscribers.models import Subscriber

__all__ = [
    "CANDIDATES",
    "MAX_QUERY_CHARS",
    "SOURCES",
    "SearchFilters",
    "category_parse",
    "fts_index_ensure",
    "paper_search",
    "profile_relevance",
    "search_terms",
]

MAX_QUERY_CHARS = 300  # longer input is cut before it is read
MAX_TERMS = 12
MAX_TERM_CHARS = 40
CANDIDATES = 200  # ranked results a search keeps (its pages, and the profile sort's pool)
SOURCES = ("arxiv", "biorxiv", "medrxiv")
_WORD = re.compile(r"[^\W_]+")
_ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(?:v\d+)?")
# arXiv's codes (cs.CL, hep-th, math.AG) and other servers' subjects (biorxiv:neuroscience).
_CATEGORY = re.compile(r"[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]{1,10})?|(?:bio|med)rxiv:[a-z_]{1,60}")
# SQLite's FTS5: BM25 weights of title, authors, abstract (lower is better).
_FTS_RANK = "bm25(digests_paper_fts, 10.0, 5.0, 1.0)"


class _AuthorNames(models.TextField):
    """The generated `search_authors` column, with pg_trgm's word-similarity operator."""


_AuthorNames.register_lookup(TrigramWordSimilar)


@dataclass(frozen=True)
class SearchFilters:
    category: str = ""  # an arXiv category (cs.CL) or another server's subject
    day: dt.date | None = None  # the announcement day
    source: str = ""  # one of SOURCES, or "" for any


def search_terms(text: str) -> list[str]:
    """The words of a query, lower-cased, at most MAX_TERMS, none twice; punctuation and
    operators dropped (a query of nothing but operators has no terms)."""
    folded = unicodedata.normalize("NFKC", text[:MAX_QUERY_CHARS]).casefold()
    words = [word[:MAX_TERM_CHARS] for word in _WORD.findall(folded)]
    return list(dict.fromkeys(words))[:MAX_TERMS]


def category_parse(text: str) -> str:
    """A category or subject code as typed (cs.CL, hep-th, biorxiv:neuroscience); ValueError
    for anything else."""
    code = text.strip()
    if not _CATEGORY.fullmatch(code):
        raise ValueError(code[:40])
    return code


def _filtered(filters: SearchFilters) -> QuerySet[Paper]:
    papers = Paper.objects.all()
    if filters.category:
        # The JSON list as text holds the code quoted: exact, on either database.
        papers = papers.filter(categories__icontains=f'"{filters.category}"')
    if filters.day is not None:
        papers = papers.filter(announce_date=filters.day)
    if filters.source == "arxiv":
        papers = papers.exclude(primary_category__contains=":")
    elif filters.source:
        papers = papers.filter(primary_category__startswith=f"{filters.source}:")
    return papers


def _postgres_ranked(papers: QuerySet[Paper], terms: list[str]) -> list[int]:
    query = SearchQuery(" ".join(terms), config="english", search_type="plain")
    document = RawSQL('"digests_paper"."search_document"', [], output_field=SearchVectorField())
    names = RawSQL('"digests_paper"."search_authors"', [], output_field=_AuthorNames())
    phrase = " ".join(terms)
    ranked = (
        papers.alias(document=document, names=names)
        .filter(Q(document=query) | Q(names__trigram_word_similar=phrase))
        .annotate(
            score=SearchRank(document, query, weights=[0.1, 0.2, 0.4, 1.0])
            + TrigramWordSimilarity(phrase, names)
        )
        .order_by("-score", models.F("announce_date").desc(nulls_last=True), "pk")
    )
    return list(ranked.values_list("pk", flat=True)[:CANDIDATES])


def _sqlite_ranked(papers: QuerySet[Paper], terms: list[str]) -> list[int]:
    # Each term quoted as an FTS5 string: the words alone reach the engine, never its syntax.
    match = " AND ".join(f'"{term}"' for term in terms)
    # extra(): the FTS5 table is no model; joining it keeps the filters in the ORM.
    ranked = papers.extra(  # noqa: S610 (constant SQL; the words are a parameter)
        tables=["digests_paper_fts"],
        where=["digests_paper_fts.rowid = digests_paper.id", "digests_paper_fts MATCH %s"],
        params=[match],
        select={"fts_rank": _FTS_RANK},
    ).order_by("fts_rank", models.F("announce_date").desc(nulls_last=True), "pk")
    return list(ranked.values_list("pk", flat=True)[:CANDIDATES])


def paper_search(*, text: str, filters: SearchFilters) -> list[int]:
    """The ids of the papers matching `text` under `filters`, best first, at most CANDIDATES:
    one query. An arXiv id (with or without version) finds that paper first."""
    terms = search_terms(text)
    if not terms:
        return []
    papers = _filtered(filters)
    found = _ARXIV_ID.fullmatch(text.strip())
    exact = (
        list(papers.filter(arxiv_id=found.group(1)).values_list("pk", flat=True)[:1])
        if found
        else []
    )
    ranked = (_postgres_ranked if connection.vendor == "postgresql" else _sqlite_ranked)(
        papers, terms
    )
    return [*exact, *(pk for pk in ranked if pk not in exact)][:CANDIDATES]


def profile_relevance(*, subscriber: Subscriber, papers: list[Paper]) -> dict[int, int]:
    """The scorer's relevance (0–100) of each paper for this reader, as of the latest
    announcement day: what their e-mail would show, whatever the day's other papers."""
    if not papers:
        return {}
    ordered = sorted(papers, key=lambda paper: paper.pk)
    day = latest_issue_date(source="papers") or dt.date.today()
    rows = profile_rows([subscriber], day=day)
    index = PaperIndex.reusing(paper_rows(ordered), rows, frequencies=document_frequencies(day))
    relevance = np.zeros(len(ordered), dtype=int)
    for chunk in scores_compute(
        index.papers, rows, parents=topic_parents(), index=index, workers=1
    ):
        relevance = chunk.relevance[0]
    return {paper.pk: int(relevance[i]) for i, paper in enumerate(ordered)}


_FTS_TRIGGERS = ("digests_paper_fts_insert", "digests_paper_fts_delete", "digests_paper_fts_update")


def fts_index_ensure(*, using: str = "default", **_signal: object) -> bool:
    """SQLite only: put the FTS5 table's triggers back, and refill it, if they are gone.

    Django's SQLite migrations rebuild a table to alter it (a new table, copied, renamed),
    which drops its triggers: run after every `migrate` (`pages.apps`), this keeps the index
    whole. True when it had to rebuild.
    """
    db = connections[using]
    if db.vendor != "sqlite":
        return False
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (%s, %s, %s)",
            _FTS_TRIGGERS,
        )
        (present,) = cursor.fetchone()
        if present == len(_FTS_TRIGGERS):
            return False
        # The migration's statements (IF NOT EXISTS, then a refill): one source of the DDL.
        migration = importlib.import_module("digests.migrations.0016_paper_search_index")
        for statement in migration.SQLITE_FORWARD:
            cursor.execute(statement)
    return True
