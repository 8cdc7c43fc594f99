"""The scorer's fast paths give exactly what a straightforward computation gives.

The top-k selection against one stable sort of each row; the readers' matrices, built from
whole chunks at once, against a reader-by-reader reference built as the scorer first did.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bench.corpus import Corpus
from digests.scoring.bm25 import MAX_NORMALISED, bm25_queries
from digests.scoring.matching import author_keys_followed
from digests.scoring.paper_index import PaperIndex, keyword_columns
from digests.scoring.profile_matrices import ProfileMatrices, expand_topics
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.scores import scores_compute
from digests.scoring.semantic import semantic_embed
from digests.scoring.signals import PRIOR_WHEN_NAMED, WEIGHTS
from digests.scoring.top import top_papers


def _stable_top(relevance: np.ndarray, k: int) -> np.ndarray:
    """Reference: each row sorted whole, best first, the lower index first among equals."""
    rows = []
    for row in relevance.tolist():
        rows.append(sorted(range(len(row)), key=lambda i: (-row[i], i))[:k])
    return np.array(rows, dtype=np.intp).reshape(relevance.shape[0], min(k, relevance.shape[1]))


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


def _readers() -> tuple[list[PaperRow], list[ProfileRow], dict[str, str]]:
    """A small day from the bench's generator, with the cases a reader-by-reader build met."""
    corpus = Corpus(11)
    papers = corpus.papers(300)
    texts = corpus.texts(20)
    profiles = corpus.profiles(400, texts)
    profiles[0] = ProfileRow(id=profiles[0].id)  # nothing at all
    profiles[1].keywords += [profiles[1].keywords[0], "LLM", "large language models"]
    profiles[2].topics = ["llm", "post-training", "no-such-topic"]  # a parent and its child
    profiles[3].authors = ["Nobody Known", profiles[3].authors[0] if profiles[3].authors else ""]
    profiles[4].categories = ["cs.LG", "cs.LG", "xx.UNKNOWN"]
    profiles[5].seed_texts = [texts[0], texts[1], texts[0]]
    profiles[5].interests = texts[1]  # a free text that is also a seed paper
    profiles[6].interests = "   "  # blank: no free text
    profiles[7].more_texts, profiles[7].less_texts = [texts[2], texts[2]], [texts[3]]
    followed = [x.institutions[0] for x in profiles if x.institutions]
    profiles[8].institutions = [followed[0], followed[1], followed[0], "Nowhere Known"]
    for x in profiles[::9]:
        x.inferred_categories = {"cs.LG": 0.7, "stat.ML": 1.4, "xx.UNKNOWN": 0.5, "cs.CL": 0.0}
    return papers, profiles, corpus.parents


def _binary_reference(values: list[set[str]], ids: dict[str, int]) -> np.ndarray:
    dense = np.zeros((len(values), max(len(ids), 1)), dtype=np.float32)
    for row, row_values in enumerate(values):
        for value in row_values:
            if value in ids:
                dense[row, ids[value]] = 1
    return dense


def _weighted_mean(rows: np.ndarray, weights: list[float]) -> np.ndarray:
    return sum(w / sum(weights) * row for w, row in zip(weights, rows, strict=True))


def _texts_of(x: ProfileRow) -> list[tuple[str, float]]:
    """The reader's texts as the scorer weighs them: the free text as much as the seeds."""
    texts = [(seed, 1.0) for seed in x.seed_texts]
    if x.interests.strip():
        texts.append((x.interests, max(1.0, float(len(texts)))))
    return texts


def test_readers_matrices_match_a_reader_by_reader_reference():
    papers, profiles, parents = _readers()
    index = PaperIndex(papers, profiles, semantic="wordllama")
    m = ProfileMatrices.build(index, profiles, parents)

    expected = {
        "topics": ([expand_topics(x.topics, parents) for x in profiles], index.topic_ids),
        "keywords": (
            [{c for k in x.keywords for c in keyword_columns(k)} for x in profiles],
            index.phrase_ids,
        ),
        "excluded": (
            [{c for k in x.exclude_keywords for c in keyword_columns(k)} for x in profiles],
            index.phrase_ids,
        ),
        "follows": (
            [{key for a in x.authors for key in author_keys_followed(a)} for x in profiles],
            index.author_ids,
        ),
        "categories": ([set(x.categories) for x in profiles], index.category_ids),
    }
    for name, (values, ids) in expected.items():
        built = getattr(m, name)
        assert built.has_sorted_indices, name  # the order every product sums in
        assert (built.toarray() == _binary_reference(values, ids)).all(), name
    assert m.keywords.nnz > 0 and m.follows.nnz > 0 and m.topics.nnz > 0

    # the free text and seed papers: one query row, their weighted mean
    text = m.text.toarray()
    for row, x in enumerate(profiles):
        group = _texts_of(x)
        if not group:
            assert not text[row].any()
            continue
        queries = bm25_queries([t for t, _w in group], index.idf).toarray()
        assert np.allclose(text[row], _weighted_mean(queries, [w for _t, w in group]), atol=1e-7)

    # feedback: each paper's similarity, averaged over the reader's papers
    for similarity, texts_of in ((m.more, "more_texts"), (m.less, "less_texts")):
        dense = similarity.assign @ similarity.per_text
        for row, x in enumerate(profiles):
            group = getattr(x, texts_of)
            if not group:
                assert not dense[row].any()
                continue
            each = (bm25_queries(group, index.idf) @ index.bm25_t).toarray()
            reference = _weighted_mean(np.minimum(each, MAX_NORMALISED), [1.0] * len(group))
            assert np.allclose(dense[row], reference, atol=1e-6)

    # the in-process model: the weighted mean of the texts' vectors, unit length
    assert m.semantic is not None
    for row, x in enumerate(profiles):
        group = _texts_of(x) + [(t, 1.0) for t in x.more_texts]
        if not group:
            assert not m.semantic[row].any()
            continue
        vectors = semantic_embed([t for t, _w in group], "wordllama")
        assert vectors is not None
        mean = _weighted_mean(vectors, [w for _t, w in group])
        assert np.allclose(m.semantic[row], mean / np.linalg.norm(mean), atol=1e-6)

    institutions = np.zeros((len(profiles), len(papers)), dtype=np.float32)
    for row, x in enumerate(profiles):
        for name in x.institutions:
            for paper in index.institution_papers(name):
                institutions[row, paper] += WEIGHTS["institution"]
    assert (m.institutions.toarray() == institutions).all()
    assert institutions[8].max() == 2 * np.float32(WEIGHTS["institution"])
    assert (institutions > 0).sum() > 20

    prior = m.prior.toarray()
    column = index.category_ids
    assert prior[1].sum() == 0  # no inferred categories
    for row in range(0, len(profiles), 9):
        scale = PRIOR_WHEN_NAMED if profiles[row].categories else 1.0
        assert prior[row, column["cs.LG"]] == np.float32(0.7 * scale)
        assert prior[row, column["stat.ML"]] == np.float32(min(1.4 * scale, 1.0))
        assert np.count_nonzero(prior[row]) == 2


def test_chunked_relevance_matches_readers_scored_one_by_one():
    papers, profiles, parents = _readers()
    index = PaperIndex(papers, profiles, semantic="wordllama")
    together = np.vstack(
        [s.relevance for s in scores_compute(papers, profiles, parents=parents, index=index)]
    )
    alone = np.vstack(
        [
            s.relevance
            for s in scores_compute(papers, profiles, parents=parents, index=index, chunk=1)
        ]
    )
    assert together.shape == (len(profiles), len(papers))
    assert (together == alone).all()
    assert (together >= 60).any() and (together == 0).any()


def test_picks_from_the_chunks_top_papers_are_the_picks_from_a_full_sort():
    """`picks_ranked` hands `digest_pick` each reader's top papers, sorted in the scorer's
    threads; the picks are those of the reader's whole row sorted (exclusions included)."""
    from digests.ranking import digest_pick

    corpus = Corpus(7)
    papers = corpus.papers(300)
    profiles = corpus.profiles(60, corpus.texts(20))
    index = PaperIndex(papers, profiles, semantic="none")
    limit = 8
    excluded = {papers[i].id for i in range(0, 300, 7)}
    (chunk,) = scores_compute(
        papers, profiles, parents=corpus.parents, index=index, top=4 * limit + len(excluded)
    )
    assert chunk.top is not None
    for position, profile in enumerate(profiles):
        common = dict(
            relevance=chunk.relevance[position],
            shares=chunk.shares(position),
            index=index,
            profile=profile,
            minimum=20,
            limit=limit,
            exclude=excluded,
            parents=corpus.parents,
            topic_names={},
        )
        assert digest_pick(**common, ranked=chunk.top[position]) == digest_pick(**common)


def test_an_index_reusing_the_papers_part_scores_and_explains_as_a_fresh_one():
    """A worker indexes the day's papers once (`PaperIndex.reusing`) and only each chunk's
    keywords afresh: every chunk's relevance, and the keywords named as reasons, are a fresh
    index's; a paper that changed is indexed again."""
    from digests.ranking import _matched_keywords

    corpus = Corpus(11)
    papers = corpus.papers(200)
    profiles = corpus.profiles(40, corpus.texts(10))
    first, second = profiles[:20], profiles[20:]
    reused = [PaperIndex.reusing(papers, chunk, semantic="none") for chunk in (first, second)]
    assert reused[0].bm25_t is reused[1].bm25_t  # the papers' part, indexed once
    assert reused[0].phrase_ids != reused[1].phrase_ids  # each chunk's own keywords
    for index, chunk in zip(reused, (first, second), strict=True):
        fresh = PaperIndex(papers, chunk, semantic="none")
        (ours,) = scores_compute(papers, chunk, parents=corpus.parents, index=index)
        (theirs,) = scores_compute(papers, chunk, parents=corpus.parents, index=fresh)
        assert (ours.relevance == theirs.relevance).all()
        assert (ours.relevance >= 60).any()
        named = [_matched_keywords(index, p, x) for x in chunk for p in range(len(papers))]
        assert named == [_matched_keywords(fresh, p, x) for x in chunk for p in range(len(papers))]
        assert any(named)

    edited = [*papers[:-1], PaperRow(**{**vars(papers[-1]), "title": "A new title"})]
    again = PaperIndex.reusing(edited, first, semantic="none")
    assert again.bm25_t is not reused[0].bm25_t
    assert again.title_words[-1] != reused[0].title_words[-1]
