"""A small model per reader, learned from what they asked more of and clicked (arxiv-sanity's SVM).

Once a reader has marked or clicked MIN_POSITIVES papers and was shown MIN_NEGATIVES papers they
did neither for (or asked less of), a linear SVM over the papers' TF-IDF (BM25F-saturated term
counts times the weeks' idf, unit length) separates the two; the day's papers are scored by it.
Before that, "more like this" is Rocchio: closeness to the liked papers (`profile_matrices`).

The SVM's score w·x is 0 for a paper sharing no telling word with either side: evidence is that
score over the typical liked paper's, clipped to 0..1, so a paper like the ones the reader liked
gets the full "more like this" weight and an unrelated one nothing. Papers the model rates below
zero get nothing from it ("less like this" stays the reader's explicit word).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from digests.scoring.bm25 import bm25_documents, term_counts
from digests.scoring.paper_index import PaperIndex
from digests.scoring.rows import ProfileRow

__all__ = [
    "MAX_EXAMPLES",
    "MIN_NEGATIVES",
    "MIN_POSITIVES",
    "Example",
    "LearnedScores",
    "learned_scores",
    "paper_features",
    "reader_model_train",
]

MIN_POSITIVES = 5  # papers asked more of or clicked before the model replaces Rocchio
MIN_NEGATIVES = 5  # papers shown and left alone, or asked less of
MAX_EXAMPLES = 300  # of each side, the most recent: training stays a few milliseconds
REGULARISATION = 0.5  # LinearSVC's C: few examples, so a smooth model

Example = tuple[str, str]  # a paper's (title, abstract)


def _unit_tfidf(tf: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    weighted = sparse.csr_matrix(tf.multiply(idf[None, :]), dtype=np.float32)
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sparse.csr_matrix(sparse.diags((1 / norms).astype(np.float32)) @ weighted)


def paper_features(index: PaperIndex) -> sparse.csr_matrix:
    """The day's papers × hashed terms, as the models read them (computed once per index)."""
    cached = getattr(index, "_learned_features", None)
    if cached is None:
        cached = _unit_tfidf(index.bm25_t.T.tocsr(), index.idf)
        index._learned_features = cached  # type: ignore[attr-defined]
    return cached


def _example_features(examples: Sequence[Example], index: PaperIndex) -> sparse.csr_matrix:
    titles = term_counts([title for title, _ in examples])
    abstracts = term_counts([abstract for _, abstract in examples])
    tf = bm25_documents(titles, abstracts, index.frequencies.average_length)
    return _unit_tfidf(tf, index.idf)


@dataclass(frozen=True)
class ReaderModel:
    """w (1 × terms) and the typical liked paper's w·x, which scales the evidence."""

    weights: sparse.csr_matrix
    scale: float


def reader_model_train(
    positives: Sequence[Example], negatives: Sequence[Example], index: PaperIndex
) -> ReaderModel | None:
    """The reader's SVM, or None while they have too few examples on either side."""
    positives, negatives = positives[:MAX_EXAMPLES], negatives[:MAX_EXAMPLES]
    if len(positives) < MIN_POSITIVES or len(negatives) < MIN_NEGATIVES:
        return None
    features = _example_features([*positives, *negatives], index)
    labels = np.array([1] * len(positives) + [0] * len(negatives))
    svm = LinearSVC(C=REGULARISATION, class_weight="balanced", max_iter=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few examples: close is enough
        svm.fit(features, labels)
    weights = sparse.csr_matrix(svm.coef_.astype(np.float32))
    liked = np.asarray((features[: len(positives)] @ weights.T).todense()).ravel()
    scale = float(np.median(liked))
    if scale <= 0:  # the model does not tell the liked papers apart: no evidence from it
        return None
    return ReaderModel(weights=weights, scale=scale)


@dataclass(frozen=True)
class LearnedScores:
    """For the readers that have a model (positions in the chunk), their evidence 0..1 on each
    of the day's papers (readers × papers)."""

    readers: np.ndarray
    evidence: np.ndarray


def learned_scores(profiles: Sequence[ProfileRow], index: PaperIndex) -> LearnedScores | None:
    """Train each reader's model who has enough examples and score the day's papers with it."""
    models: list[tuple[int, ReaderModel]] = []
    for position, profile in enumerate(profiles):
        if len(profile.learn_positives) < MIN_POSITIVES:
            continue
        model = reader_model_train(profile.learn_positives, profile.learn_negatives, index)
        if model is not None:
            models.append((position, model))
    if not models:
        return None
    weights = sparse.vstack([m.weights for _, m in models]).tocsr()
    scales = np.array([m.scale for _, m in models], dtype=np.float32)
    margins = np.asarray((weights @ paper_features(index).T).todense(), dtype=np.float32)
    evidence = np.clip(margins / scales[:, None], 0, 1)
    return LearnedScores(np.array([p for p, _ in models]), evidence)
