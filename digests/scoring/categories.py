"""Which arXiv categories a reader seems to read, from what they wrote and the papers they chose.

A TF-IDF centroid classifier (Rocchio) over the stemmed words of title and abstract, trained on
the papers ingested in the last weeks with arXiv's own labels on them: each category's centroid
is the mean of its papers' unit vectors (the primary category at full weight, cross-lists at
half), at most PER_CATEGORY most recent papers a category so the cost stays bounded. A reader's
free text is scored by cosine against every centroid; a category counts only when its cosine is
both high in absolute terms (MIN_SIMILARITY: the text says something about arXiv at all) and
close to the best one (RELATIVE: not a distant second), a runner-up weighing less than the best
(SHARPNESS), so the scorer's prior leans on the field the text is most about. Seed papers and
"more like this" papers speak for themselves: their own categories, primary over cross-list.
The two kinds of evidence are combined as independent (noisy-or) and the result is category →
weight 0–1, the top few above FLOOR, without the categories the reader names or dropped.

The model is trained once per (announcement day, papers held) in each process, on the weeks up
to the day scored: a reader's categories are read against the papers of that day's weeks.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Max
from scipy import sparse

from digests.models import Paper
from digests.scoring.matching import stems

__all__ = [
    "CategoryModel",
    "Evidence",
    "categories_from_papers",
    "categories_infer",
    "categories_infer_many",
    "category_model",
    "model_train",
]

HISTORY_DAYS = 28  # the papers of the last four weeks train the model
PER_CATEGORY = 250  # most recent papers per primary category, so training stays bounded
CROSS_WEIGHT = 0.5  # a cross-listed category, in training and for a seed paper
MIN_SIMILARITY = 0.1  # cosine of the text with a centroid below which it says nothing
FULL_SIMILARITY = 0.25  # cosine from which a category is certain (weight 1)
RELATIVE = 0.5  # a category within this fraction of the best one's cosine
SHARPNESS = 2.0  # a runner-up weighs (its cosine / the best one's) ** SHARPNESS of the best
FLOOR = 0.25  # weights below are left out
TOP = 4  # at most this many categories

_STOPWORDS = frozenset(  # as stems, since they are compared with stems
    stems(
        "a an and are as at be been but by can do for from has have how i in into is it its "
        "like me my of on or our so some such than that the their them then there these they "
        "this those to us via was we were what when which while who will with within without "
        "would you your about also all any both each more most new not only other over paper "
        "papers interest interested research work works study studies use using based"
    )
)


def _words(text: str) -> list[str]:
    return [w for w in stems(text) if len(w) > 1 and not w.isdigit() and w not in _STOPWORDS]


@dataclass(frozen=True)
class CategoryModel:
    """Unit-length centroids (categories × terms) over a vocabulary with its IDF."""

    categories: list[str]
    vocabulary: dict[str, int]
    idf: np.ndarray
    centroids: sparse.csr_matrix
    papers: int

    def vector(self, text: str) -> sparse.csr_matrix | None:
        """The text's unit TF-IDF row, or None when no word of it is known."""
        counts = Counter(w for w in _words(text) if w in self.vocabulary)
        if not counts:
            return None
        columns = np.array([self.vocabulary[w] for w in counts])
        values = np.array([1 + math.log(n) for n in counts.values()]) * self.idf[columns]
        norm = float(np.sqrt((values**2).sum()))
        if norm == 0:
            return None
        return sparse.csr_matrix(
            (values / norm, (np.zeros(len(columns), dtype=int), columns)),
            shape=(1, len(self.vocabulary)),
        )

    def similarities(self, text: str) -> dict[str, float]:
        """Cosine of the text with each category's centroid (categories it touches only)."""
        row = self.vector(text)
        if row is None or not self.categories:
            return {}
        scores = np.asarray((row @ self.centroids.T).todense()).ravel()
        return {self.categories[i]: float(scores[i]) for i in np.flatnonzero(scores > 0)}


def model_train(papers: Iterable[tuple[str, str, Sequence[str]]]) -> CategoryModel:
    """Train on (title, abstract, categories with the primary first)."""
    documents: list[list[str]] = []
    labels: list[Sequence[str]] = []
    for title, abstract, categories in papers:
        if categories:
            documents.append(_words(f"{title}\n{abstract}"))
            labels.append(categories)
    frequency: Counter[str] = Counter()
    for words in documents:
        frequency.update(set(words))
    kept = sorted(w for w, n in frequency.items() if n >= 2)
    vocabulary = {w: i for i, w in enumerate(kept)}
    total = len(documents)
    idf = np.array([math.log((1 + total) / (1 + frequency[w])) + 1 for w in kept])
    categories = sorted({c for cats in labels for c in cats})
    position = {c: i for i, c in enumerate(categories)}
    rows, columns, values = [], [], []
    weights_rows, weights_columns, weights = [], [], []
    for doc, (words, cats) in enumerate(zip(documents, labels, strict=True)):
        counts = Counter(w for w in words if w in vocabulary)
        if not counts:
            continue
        cols = [vocabulary[w] for w in counts]
        vals = np.array([1 + math.log(n) for n in counts.values()]) * idf[cols]
        vals /= np.sqrt((vals**2).sum())
        rows.extend([doc] * len(cols))
        columns.extend(cols)
        values.extend(vals.tolist())
        for rank, category in enumerate(dict.fromkeys(cats)):
            weights_rows.append(position[category])
            weights_columns.append(doc)
            weights.append(1.0 if rank == 0 else CROSS_WEIGHT)
    vectors = sparse.csr_matrix((values, (rows, columns)), shape=(total, len(vocabulary)))
    membership = sparse.csr_matrix(
        (weights, (weights_rows, weights_columns)), shape=(len(categories), total)
    )
    centroids = (membership @ vectors).tocsr()
    norms = np.sqrt(np.asarray(centroids.multiply(centroids).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    centroids = sparse.diags(1 / norms) @ centroids
    return CategoryModel(
        categories=categories,
        vocabulary=vocabulary,
        idf=idf,
        centroids=sparse.csr_matrix(centroids),
        papers=total,
    )


_lock = threading.Lock()
_trained: dict[tuple[dt.date | None, int, int], CategoryModel] = {}
KEPT_MODELS = 4  # models held per process (a preview of an earlier day keeps today's)


def _history(latest: dt.date) -> list[tuple[str, str, list[str]]]:
    """The weeks' papers up to `latest`, at most PER_CATEGORY most recent per primary category."""
    taken: Counter[str] = Counter()
    chosen = []
    recent = (
        Paper.objects.filter(
            announce_date__range=(latest - dt.timedelta(days=HISTORY_DAYS - 1), latest)
        )
        .order_by("-announce_date", "-pk")
        .values_list("title", "abstract", "categories", "primary_category")
    )
    for title, abstract, categories, primary in recent.iterator(chunk_size=2000):
        labels = list(dict.fromkeys([primary, *categories] if primary else categories))
        if not labels or taken[labels[0]] >= PER_CATEGORY:
            continue
        taken[labels[0]] += 1
        chosen.append((title, abstract, labels))
    return chosen


def category_model(day: dt.date | None = None) -> CategoryModel:
    """The model of the weeks up to `day` (default: the latest announcement day), trained once
    per day and paper count: a reader's categories are read against the papers of their day."""
    announced = Paper.objects.filter(announce_date__isnull=False)
    if day is not None:
        announced = announced.filter(announce_date__lte=day)
    latest = announced.order_by("-announce_date").values_list("announce_date", flat=True).first()
    # The day's count and newest row's id: papers added to the day (or another database) retrain.
    stats = Paper.objects.filter(announce_date=latest).aggregate(count=Count("pk"), last=Max("pk"))
    stamp = (latest, stats["count"], stats["last"] or 0)
    with _lock:
        model = _trained.get(stamp)
        if model is None:
            model = model_train(_history(latest) if latest else [])
            while len(_trained) >= KEPT_MODELS:
                del _trained[next(iter(_trained))]
            _trained[stamp] = model
    return model


def categories_from_papers(categories_of_papers: Sequence[Sequence[str]]) -> dict[str, float]:
    """Each category by how often the papers carry it (primary 1, cross-list CROSS_WEIGHT),
    relative to the most frequent one: a reader's chosen papers all speak, a stray one less."""
    if not categories_of_papers:
        return {}
    totals: dict[str, float] = {}
    for categories in categories_of_papers:
        for rank, category in enumerate(dict.fromkeys(categories)):
            totals[category] = totals.get(category, 0.0) + (1.0 if rank == 0 else CROSS_WEIGHT)
    if not totals:
        return {}
    most = max(totals.values())
    return {c: n / most for c, n in totals.items()}


def _from_text(similarities: dict[str, float]) -> dict[str, float]:
    if not similarities:
        return {}
    best = max(similarities.values())
    if best < MIN_SIMILARITY:
        return {}
    certainty = min(1.0, best / FULL_SIMILARITY)
    return {
        c: certainty * (s / best) ** SHARPNESS
        for c, s in similarities.items()
        if s >= MIN_SIMILARITY and s >= RELATIVE * best
    }


@dataclass(frozen=True)
class Evidence:
    """What a reader gave to infer from."""

    texts: Sequence[str] = ()
    paper_categories: Sequence[Sequence[str]] = ()  # of seed and liked papers, primary first
    known: Iterable[str] = ()  # categories the reader names
    dropped: Iterable[str] = ()  # categories the reader said they do not read


def categories_infer_many(
    evidence: Sequence[Evidence],
    *,
    model: CategoryModel | None = None,
    day: dt.date | None = None,
) -> list[dict[str, float]]:
    """For each reader, category → weight 0–1 they seem to read: from their texts (free-text
    interests) and the categories of their seed and liked papers; the top TOP above FLOOR,
    leaving out the categories they name or dropped. Texts are scored in one matrix product,
    against the model of the weeks up to `day` (default: the latest announcement day)."""
    texts = ["\n".join(t for t in e.texts if t.strip()) for e in evidence]
    by_text: dict[str, dict[str, float]] = {}
    wanted = sorted({t for t in texts if t})
    if wanted:
        model = model or category_model(day)
        rows = [model.vector(t) for t in wanted]
        present = [i for i, row in enumerate(rows) if row is not None]
        if present and model.categories:
            stacked = sparse.vstack([rows[i] for i in present]).tocsr()
            scores = np.asarray((stacked @ model.centroids.T).todense())
            for line, i in enumerate(present):
                hits = np.flatnonzero(scores[line] > 0)
                by_text[wanted[i]] = _from_text(
                    {model.categories[c]: float(scores[line, c]) for c in hits}
                )
    return [
        _combine(by_text.get(text, {}), categories_from_papers(e.paper_categories), e)
        for text, e in zip(texts, evidence, strict=True)
    ]


def _combine(
    by_text: dict[str, float], by_papers: dict[str, float], evidence: Evidence
) -> dict[str, float]:
    skip = set(evidence.known) | set(evidence.dropped)
    combined = {
        c: 1 - (1 - by_text.get(c, 0.0)) * (1 - by_papers.get(c, 0.0))
        for c in by_text.keys() | by_papers.keys()
        if c not in skip
    }
    best = sorted(combined.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return {c: round(w, 3) for c, w in best if w >= FLOOR}


def categories_infer(evidence: Evidence, *, model: CategoryModel | None = None) -> dict[str, float]:
    """One reader's inferred categories (see `categories_infer_many`)."""
    return categories_infer_many([evidence], model=model)[0]
