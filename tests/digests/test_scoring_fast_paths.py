"""The scorer's fast paths give exactly what a straightforward computation gives.

The top-k selection against one stable sort of each row; the readers' matrices, built from
whole chunks at once, against a reader-by-reader reference built as the scorer first did.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from digests.scoring.top import top_papers


def _stable_top(relevance: np.ndarray, k: int) -> np.ndarray:
    """Reference: each row sorted whole, best first, the lower index first among equals."""
    return np.array(
        [
            sorted(range(len(row)), key=lambda i, row=row: (-int(row[i]), i))[:k]
            for row in relevance
        ],
        dtype=np.intp,
    ).reshape(relevance.shape[0], min(k, relevance.shape[1]))


def test_top_papers_picks_the_best_lower_index_first_among_equals():
    relevance = np.array([[5, 9, 9, 0, 7, 9, 1, 1, 3, 9, 2, 2, 0, 0, 8, 8]], dtype=np.uint8)
    assert top_papers(relevance, 2).tolist() == [[1, 2]]
    assert top_papers(relevance, 6).tolist() == [[1, 2, 5, 9, 14, 15]]


def test_top_papers_of_a_real_sized_chunk_match_a_full_sort():
    rng = np.random.default_rng(20260618)
    relevance = rng.integers(0, 100, size=(300, 2000)).astype(np.uint8)
    relevance[rng.random(relevance.shape) < 0.6] = 0  # most cells score nothing
    relevance[7] = 0  # a reader nothing matched: ties all along, sorted whole
    relevance[8] = 42
    top = top_papers(relevance, 20)
    assert top[7].tolist() == list(range(20))
    assert top[8].tolist() == list(range(20))
    assert (top == _stable_top(relevance, 20)).all()


@settings(max_examples=200, deadline=None)
@given(
    relevance=hnp.arrays(
        np.uint8,
        st.tuples(st.integers(1, 20), st.integers(1, 400)),
        elements=st.sampled_from([0, 0, 0, 1, 2, 30, 61, 99, 100]),
    ),
    k=st.one_of(st.integers(0, 25), st.integers(60, 70)),
)
def test_top_papers_match_a_full_stable_sort(relevance, k):
    assert (top_papers(relevance, k) == _stable_top(relevance, k)).all()


def test_top_papers_of_float_relevance_sort_whole():
    relevance = np.array([[0.5, 2.0, 2.0, 1.0]])
    assert top_papers(relevance, 3).tolist() == [[1, 2, 3]]
