"""Each signal's share of a score: the shares add up to the relevance, and the reason shown is
the signal with the largest share, on the bench's realistic synthetic day (no database)."""

from __future__ import annotations

import ast
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench.scoring import Corpus
from digests import ranking
from digests.ranking import Reason, reason_code
from digests.scoring.paper_index import PaperIndex
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.scores import Scores, scores_compute
from digests.scoring.signals import WEIGHTS, Signal

REASON_OF_SIGNAL = {
    Signal.AUTHOR: Reason.AUTHOR,
    Signal.KEYWORD: Reason.KEYWORD,
    Signal.TOPIC: Reason.TOPIC,
    Signal.INSTITUTION: Reason.INSTITUTION,
    Signal.TEXT: Reason.TEXT,
    Signal.EMBEDDING: Reason.TEXT,
    Signal.FEEDBACK_MORE: Reason.FEEDBACK,
    Signal.CATEGORY: Reason.CATEGORY,
    Signal.SEMANTIC: Reason.TEXT,
    Signal.PRIOR: Reason.PRIOR,
}


CATEGORY_POOL = {"cs.CL", "cs.LG", "cs.AI", "cs.CV", "stat.ML", "quant-ph", "math.OC"}


def _realistic_day(
    papers: int, readers: int
) -> tuple[list[PaperRow], list[ProfileRow], dict[str, str]]:
    """The bench's day, with every signal in play: embeddings, several seed papers and
    feedback texts, several institutions, readers who want updates."""
    corpus = Corpus(20260618)
    paper_rows = corpus.papers(papers)
    texts = corpus.texts(60)
    profiles = corpus.profiles(readers, texts)
    rng = random.Random(7)
    vectors = np.random.default_rng(7)
    centres = vectors.normal(size=(6, 16))
    paper_rows = [
        replace(p, embedding=centres[i % 6] + 0.8 * vectors.normal(size=16))
        for i, p in enumerate(paper_rows)
    ]
    rich = []
    for x in profiles:
        changes: dict[str, object] = {}
        if rng.random() < 0.3:
            changes["seed_texts"] = rng.sample(texts, rng.randint(1, 3))
        if rng.random() < 0.3:
            changes["embedding"] = centres[rng.randrange(6)] + 0.5 * vectors.normal(size=16)
        if rng.random() < 0.2:
            changes["institutions"] = rng.sample(corpus.institutions, 2)
        if rng.random() < 0.2:  # categories inferred, none named
            changes["categories"] = []
            changes["topics"], changes["keywords"] = [], []
            changes["inferred_categories"] = {
                c: rng.uniform(0.3, 1) for c in rng.sample(sorted(CATEGORY_POOL), 3)
            }
        if rng.random() < 0.2:  # liked before: other papers, and one of the day's (a revision)
            liked = rng.choice(paper_rows)
            more = [*rng.sample(texts, rng.randint(0, 2)), f"{liked.title}\n{liked.abstract}"]
            changes["more_texts"] = more
            changes["less_texts"] = rng.sample(texts, rng.randint(0, 2))
        rich.append(replace(x, **changes))
    return paper_rows, rich, corpus.parents


@pytest.fixture(scope="module")
def day() -> tuple[list[PaperRow], list[ProfileRow], list[Scores]]:
    papers, profiles, parents = _realistic_day(300, 240)
    index = PaperIndex(papers, profiles)
    chunks = list(scores_compute(papers, profiles, parents=parents, chunk=70, index=index))
    return papers, profiles, chunks


def test_shares_add_up_to_the_relevance_and_the_reason_is_the_largest(day):
    _papers, _profiles, chunks = day
    checked = 0
    for chunk in chunks:
        for position in range(len(chunk.profile_ids)):
            relevance = chunk.relevance[position].astype(np.float64)
            shares = chunk.shares(position)
            # in points of relevance: they add up to it (before the score is rounded)
            assert np.abs(shares.points.sum(axis=0) - relevance).max() <= 0.5 + 1e-3
            # only "less like this" takes points away
            negative = np.flatnonzero((shares.points < 0).any(axis=1))
            assert set(negative) <= {Signal.FEEDBACK_LESS}
            for paper in np.flatnonzero(relevance > 0):
                column = shares.points[:, paper]
                largest = Signal(int(np.argmax(column)))
                assert reason_code(shares=shares, position=paper) == REASON_OF_SIGNAL[largest]
                assert shares.of(paper)[largest] == column.max() > 0
                checked += 1
    assert checked > 5000


def test_every_signal_takes_the_lead_somewhere(day):
    _papers, _profiles, chunks = day
    leading = set()
    for chunk in chunks:
        for position in range(len(chunk.profile_ids)):
            shares = chunk.shares(position)
            points = shares.points[:, chunk.relevance[position] > 0]
            leading.update(Signal(int(s)) for s in np.argmax(points, axis=0))
    assert leading == set(Signal) - {Signal.FEEDBACK_LESS}


def test_shares_do_not_depend_on_the_chunking(day):
    papers, profiles, _chunks = day
    index = PaperIndex(papers, profiles)
    parents = Corpus(20260618).parents
    (whole,) = scores_compute(papers, profiles, parents=parents, chunk=1000, index=index)
    small = list(scores_compute(papers, profiles, parents=parents, chunk=17, index=index))
    for reader in (0, 16, 17, 120, len(profiles) - 1):
        chunk = small[reader // 17]
        assert np.array_equal(whole.relevance[reader], chunk.relevance[reader % 17])
        # the shares are sliced from each chunk's products: float32 sums in another order
        assert np.allclose(
            whole.shares(reader).points, chunk.shares(reader % 17).points, rtol=0, atol=1e-3
        )


def test_a_paper_s_shares_are_its_signals_in_proportion_to_their_evidence():
    papers = [
        PaperRow(
            id=1,
            title="Causal discovery",
            abstract="",
            authors=["Ada Lovelace"],
            affiliations=[],
            categories=["cs.LG"],
        )
    ]
    profile = ProfileRow(id=1, keywords=["causal discovery"], authors=["Ada Lovelace"])
    (chunk,) = scores_compute(papers, [profile])
    shares = chunk.shares(0).of(0)
    assert set(shares) == {Signal.KEYWORD, Signal.AUTHOR}
    ratio = shares[Signal.AUTHOR] / shares[Signal.KEYWORD]
    assert ratio == pytest.approx(WEIGHTS["author"] / WEIGHTS["keyword_title"])
    assert sum(shares.values()) == pytest.approx(int(chunk.relevance[0, 0]), abs=0.5)


def test_the_ranker_copies_no_weight_of_the_scorer():
    source = Path(ranking.__file__).read_text()
    floats = [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, float)
    ]
    assert floats == []
    assert "WEIGHTS" not in source and "FLOOR" not in source
