"""The chunk arithmetic's fast paths give the same float32 sums, bit for bit, as the plain one.

Relevance is rounded from float32 evidence: adding the same values in another order can move a
cell across a .5 and change the relevance a reader sees. The reference below is the scorer's
arithmetic written plainly (every sparse part summed at once as one COO matrix, then made
dense); the scorer must give exactly its relevance, on a day where every signal scores.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from bench.corpus import Corpus
from digests.scoring import evidence as summing
from digests.scoring import products, profile_matrices
from digests.scoring import scores as scoring
from digests.scoring.paper_index import Columns, PaperIndex
from digests.scoring.profile_matrices import ProfileMatrices
from digests.scoring.signals import PRIOR_ALONE, Signal


def test_adding_a_part_into_an_array_adds_to_what_is_there():
    """`add_into` relies on scipy's CSR-to-dense kernel adding into its output."""
    rng = np.random.default_rng(3)
    part = sparse.random(40, 30, density=0.2, format="csr", dtype=np.float32, random_state=4)
    out = rng.random((40, 30), dtype=np.float32)
    expected = out + part.toarray()
    summing.add_into(out, part)
    assert np.array_equal(out, expected)
    assert part.nnz and not np.array_equal(out, part.toarray())


def test_parts_added_one_by_one_sum_as_one_sparse_sum():
    """Overlapping parts, values of very different sizes (so the order of adding shows): added
    one after another into zeros, each cell is the COO sum's bit for bit."""
    rng = np.random.default_rng(5)
    shape = (60, 50)
    parts = []
    for seed in range(6):
        part = sparse.random(*shape, density=0.3, format="csr", dtype=np.float32, random_state=seed)
        part.data *= np.float32(10.0 ** rng.integers(-4, 4))
        parts.append(part)
    backwards = parts[1].copy()  # each row's entries in descending column order
    for row in range(shape[0]):
        start, end = backwards.indptr[row], backwards.indptr[row + 1]
        backwards.indices[start:end] = backwards.indices[start:end][::-1].copy()
        backwards.data[start:end] = backwards.data[start:end][::-1].copy()
    backwards.has_sorted_indices = False
    parts.append(backwards)
    out = np.zeros(shape, dtype=np.float32)
    for part in parts:
        summing.add_into(out, part)
    reference = summing.coo_sum([p.tocoo() for p in parts], shape).toarray()
    assert np.array_equal(out.view(np.uint32), reference.view(np.uint32))
    in_order = np.zeros(shape, dtype=np.float32)
    for part in reversed(parts):
        summing.add_into(in_order, part)
    assert not np.array_equal(in_order, out)  # the order of adding does show


def _reference(index: PaperIndex, m: ProfileMatrices) -> np.ndarray:
    """The scorer's evidence as first written: sparse parts as one COO sum made dense."""
    parts = [
        (signal, part.tocsr()) for signal, part in scoring._sparse_parts(index, m, slice(None))
    ]
    shape = (len(m.ids), len(index.papers))
    evidence = summing.coo_sum([p.tocoo() for g, p in parts if g != Signal.PRIOR], shape)
    evidence = evidence.toarray()
    for _signal, active, dense in scoring._dense_parts(index, m, slice(None)):
        evidence[active] += dense
    prior_parts = [p.tocoo() for g, p in parts if g == Signal.PRIOR]
    if prior_parts:
        prior = summing.coo_sum(prior_parts, shape).tocsr().tocoo()
        values = prior.data.astype(evidence.dtype)
        alone = evidence[prior.row, prior.col] <= 0
        values[alone] = np.minimum(values[alone], PRIOR_ALONE)
        evidence[prior.row, prior.col] += values
    excluded = (m.excluded @ index.in_title_t + m.excluded @ index.in_abstract_t).tocoo()
    evidence[excluded.row, excluded.col] = 0
    damped = np.where(index.is_replacement, scoring.REPLACEMENT_FACTOR, 1).astype(np.float32)
    keep = m.wants_updates[:, None]
    return np.where(keep, evidence, evidence * damped)


def _reference_relevance(evidence: np.ndarray) -> np.ndarray:
    return np.rint(-100 * np.expm1(-np.maximum(evidence, 0))).astype(np.uint8)


def test_chunk_relevance_is_the_plain_arithmetic_bit_for_bit(monkeypatch):
    corpus = Corpus(23)
    papers = corpus.papers(400)
    profiles = corpus.profiles(600, corpus.texts(30))
    for x in profiles[::7]:
        x.inferred_categories = {"cs.LG": 0.7, "stat.ML": 0.9, "cs.CL": 0.4}
    index = PaperIndex(papers, profiles, semantic="wordllama")
    m = ProfileMatrices.build(index, profiles, corpus.parents)
    signals = {g for g, _p in scoring._sparse_parts(index, m, slice(None))}
    signals |= {g for g, _a, _d in scoring._dense_parts(index, m, slice(None))}
    assert {Signal.PRIOR, Signal.TEXT, Signal.SEMANTIC, Signal.FEEDBACK_LESS} <= signals
    evidence, _parts = scoring._chunk_evidence(index, m, slice(None))
    reference = _reference(index, m)
    assert evidence.dtype == reference.dtype == np.float32
    assert np.array_equal(evidence.view(np.uint32), reference.view(np.uint32))
    ours = scoring._chunk_scores(index, m, slice(None)).relevance
    assert ours.dtype == np.uint8
    assert np.array_equal(ours, _reference_relevance(reference))
    monkeypatch.setattr(summing, "BLOCK_CELLS", 7 * len(papers) + 3)  # blocks of 7 readers
    assert np.array_equal(scoring._chunk_scores(index, m, slice(None)).relevance, ours)
    assert (ours >= 60).any() and (ours == 0).any() and (ours > 0).sum() > ours.size // 20


def _same_csr(ours: sparse.csr_matrix, theirs: sparse.csr_matrix) -> bool:
    return (
        type(ours) is type(theirs)
        and ours.shape == theirs.shape
        and np.array_equal(ours.indptr, theirs.indptr)
        and np.array_equal(ours.indices, theirs.indices)
        and np.array_equal(ours.data.view(np.uint32), theirs.data.view(np.uint32))
    )


def test_bm25_counts_match_sklearn():
    """The term counts hash terms through sklearn's hashing loop without its per-text
    wrapping: the same columns and counts as its HashingVectorizer, row for row."""
    from digests.scoring import bm25
    from digests.scoring.matching import stems

    corpus = Corpus(29)
    texts = [p.abstract for p in corpus.papers(30)] + [
        "Large language models (LLMs) for RLHF; large language model, LLM, LLM.",
        "",
        "Zoë's Ğüneş naïve café — 量子 計算 and graph neural networks",
        "the the the of",
        "reinforcement learning from human feedback " * 5,
    ]
    assert _same_csr(bm25._counts(texts), bm25._VECTORIZER.transform(texts).tocsr())
    words = [stems(t) for t in texts]
    assert _same_csr(
        bm25.term_counts_of_stems(words), bm25._STEMS_VECTORIZER.transform(words).tocsr()
    )
    assert bm25._counts(texts).nnz > 1000


def test_query_rows_scaled_as_the_diagonal_product_leaves_them():
    """A query's terms are summed in the order its row holds them: `_rows_scaled` gives the
    entries, values and order of `diags(scale) @ rows`."""
    from digests.scoring import bm25

    rows = sparse.random(60, 500, density=0.05, format="csr", dtype=np.float32, random_state=8)
    rows.sort_indices()
    rows.data[rows.indptr[7] : rows.indptr[8]] = 0  # an empty row
    rows.eliminate_zeros()
    scale = np.random.default_rng(9).random(60).astype(np.float32)
    ours = bm25._rows_scaled(rows, scale)
    assert _same_csr(ours, sparse.diags(scale) @ rows)
    assert ours.nnz == rows.nnz > 100


def test_one_pass_product_is_scipys_product_bit_for_bit():
    """`products.product` calls scipy's computing kernel alone: the same entries in the same
    order as `a @ b`, whatever the rows (empty, wide, unsorted), the dtypes or the index type."""
    a = sparse.random(300, 500, density=0.03, format="lil", dtype=np.float32, random_state=1)
    a[7] = 0  # an empty row
    a = a.tocsr() * np.float32(1e3)
    b = sparse.random(500, 400, density=0.2, format="lil", dtype=np.float32, random_state=2)
    b[:, :3] = 1.0  # columns every row of `b` reaches: products wider than any row of `b`
    b = b.tocsr()
    backwards = b.copy()  # each row's entries in descending column order
    for row in range(backwards.shape[0]):
        start, end = backwards.indptr[row], backwards.indptr[row + 1]
        backwards.indices[start:end] = backwards.indices[start:end][::-1].copy()
        backwards.data[start:end] = backwards.data[start:end][::-1].copy()
    backwards.has_sorted_indices = False
    cases = [(a, b), (a, backwards), (a, b.astype(np.float64)), (a[:0], b), (a[:, :0], b[:0])]
    for left, right in cases:
        expected, found = left @ right, products.product(left, right)
        assert found.shape == expected.shape and found.dtype == expected.dtype
        assert np.array_equal(found.indptr, expected.indptr)
        assert np.array_equal(found.indices, expected.indices)
        assert np.array_equal(found.data.view(np.uint8), expected.data.view(np.uint8))
    assert products.product(a, b).nnz > 0.5 * a.shape[0] * b.shape[1]
    with pytest.raises(ValueError, match="inconsistent shapes"):
        products.product(a, a)


def test_one_pass_product_bound_holds_each_rows_entries():
    """The bound the arrays are allocated by is never below the product's entries, and at most
    the dense size: scipy's kernel writes past no array."""
    for seed in range(20):
        a = sparse.random(50, 80, density=0.05 * (seed % 5 + 1), format="csr", random_state=seed)
        b = sparse.random(80, 60, density=0.02 * (seed % 7 + 1), format="csr", random_state=seed)
        bound = products._bound(a.tocsr(), b.tocsr())
        assert (a @ b).nnz <= bound <= 50 * 60


def test_readers_values_looked_up_by_code_give_each_readers_columns():
    """`_binary_matrix` reads most values by their one code and the rest (several columns, none,
    not seen before) one by one: each reader's row is the union of its values' columns."""
    ids = {"a": 0, "b": 1, "c": 2, "d": 3}
    spelled = {"x": ["a"], "y": ["b", "c"], "z": ["nowhere"], "w": ["d", "a", "d"]}
    columns = Columns(lambda value: spelled.get(value, ()), ids)
    columns.known("y", (1, 2))  # recorded beforehand, as the index records keywords
    readers = [["x", "y"], [], ["z", "x", "x"], ["w", "unknown", "y"], ["x"]]
    for _ in range(2):  # first unseen, then by their codes
        matrix = profile_matrices._binary_matrix(readers, columns, len(ids))
        expected = [
            sorted({ids[c] for v in r for c in spelled.get(v, ()) if c in ids}) for r in readers
        ]
        assert [sorted(matrix[row].indices.tolist()) for row in range(len(readers))] == expected
        assert matrix.has_canonical_format and set(matrix.data.tolist()) == {1.0}
    assert columns.codes == {
        "x": 0,
        "y": Columns.MANY,
        "z": Columns.NONE,
        "w": Columns.MANY,
        "unknown": Columns.NONE,
    }
    assert columns["w"] == (0, 3) and columns["z"] == ()
