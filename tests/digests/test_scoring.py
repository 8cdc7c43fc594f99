"""The scorer, signal by signal and together, on plain rows (no database)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from digests.ranking import Reason, reason_code
from digests.scoring.paper_index import PaperIndex
from digests.scoring.rows import PaperRow, ProfileRow
from digests.scoring.scores import scores_compute


def paper(pid: int, title: str, abstract: str = "", **fields) -> PaperRow:
    fields.setdefault("authors", ["Ada Lovelace"])
    fields.setdefault("affiliations", [])
    fields.setdefault("categories", ["cs.LG"])
    return PaperRow(id=pid, title=title, abstract=abstract, **fields)


def score(papers: list[PaperRow], profile: ProfileRow, parents=None) -> tuple[list[int], list[int]]:
    """Each paper's relevance for the profile, and the signal that gave it most."""
    index = PaperIndex(papers, [profile])
    (chunk,) = list(scores_compute(papers, [profile], parents=parents, index=index))
    shares = chunk.shares(0)
    reasons = [reason_code(shares=shares, position=i) for i in range(len(papers))]
    return [int(x) for x in chunk.relevance[0]], reasons


def test_a_keyword_matches_whole_words_and_inflections_not_substrings():
    papers = [
        paper(1, "Distilling policies with RL", "We distill on-policy."),
        paper(2, "A URL shortener", "Short URLs for everyone."),
        paper(3, "On-policy distilled language models", ""),
    ]
    relevance, reasons = score(papers, ProfileRow(id=1, keywords=["RL", "on-policy distillation"]))
    assert relevance[1] == 0  # "RL" is not in "URL"
    assert relevance[0] > 0 and reasons[0] == Reason.KEYWORD
    assert relevance[2] > 0 and reasons[2] == Reason.KEYWORD  # the phrase, inflected


def test_a_title_hit_weighs_more_than_an_abstract_hit():
    papers = [paper(1, "Causal inference at scale"), paper(2, "Big data", "causal inference")]
    relevance, _ = score(papers, ProfileRow(id=1, keywords=["causal inference"]))
    assert relevance[0] > relevance[1] > 0


def test_followed_authors_match_variants_without_flooding_common_surnames():
    papers = [
        paper(1, "A", authors=["Y. Yang", "Bo Li"]),
        paper(2, "B", authors=["Yongjin Yang"]),
        paper(3, "C", authors=["Yi Yang"]),
        paper(4, "D", authors=["Yongjin  Yang-"]),
        paper(5, "E", authors=["Zoë Ğüneş"]),
        paper(6, "F", authors=["Michael L. Littman"]),
    ]
    full, reasons = score(
        papers, ProfileRow(id=1, authors=["Yongjin Yang", "Zoe Gunes", "Michael Littman"])
    )
    assert [r > 60 for r in full] == [True, True, False, True, True, True]
    assert reasons[0] == Reason.AUTHOR
    initial, _ = score(papers, ProfileRow(id=2, authors=["Y. Yang"]))
    assert [r > 0 for r in initial] == [True, False, False, False, False, False]


def test_tex_accents_in_feeds_meet_unicode_names():
    papers = [paper(1, "A", authors=["Michal Hajdu\\v{s}ek", "Eduardo Garc\\'ia-Portugu\\'es"])]
    relevance, reasons = score(papers, ProfileRow(id=1, authors=["Michal Hajdušek"]))
    other, _ = score(papers, ProfileRow(id=2, authors=["Eduardo García-Portugués"]))
    assert relevance[0] > 60 and other[0] > 60 and reasons[0] == Reason.AUTHOR


def test_an_excluded_keyword_pushes_the_paper_out():
    papers = [paper(1, "A survey of preference optimization"), paper(2, "Preference optimization")]
    relevance, _ = score(
        papers, ProfileRow(id=1, keywords=["preference optimization"], exclude_keywords=["surveys"])
    )
    assert relevance[0] == 0 and relevance[1] > 0


def test_institutions_match_inside_longer_affiliations():
    papers = [
        paper(1, "A", affiliations=["Department of Computer Science, Tsinghua University"]),
        paper(2, "B", affiliations=["Tsinghua-Berkeley Shenzhen Institute"]),
        paper(3, "C", affiliations=["Peking University"]),
    ]
    relevance, reasons = score(papers, ProfileRow(id=1, institutions=["Tsinghua University"]))
    assert relevance[0] > 0 and reasons[0] == Reason.INSTITUTION
    assert relevance[1:] == [0, 0]


def test_primary_category_weighs_more_than_a_cross_list():
    papers = [
        paper(1, "A", categories=["cs.CL", "cs.LG"]),
        paper(2, "B", categories=["cs.LG", "cs.CL"]),
    ]
    relevance, _ = score(papers, ProfileRow(id=1, categories=["cs.CL"]))
    assert relevance[0] > relevance[1] > 0


def test_a_followed_topic_takes_its_sub_topics_hits():
    papers = [
        paper(1, "A", topic_hits={"post-training": 90}),
        paper(2, "B", topic_hits={"rag": 90}),
    ]
    relevance, reasons = score(
        papers, ProfileRow(id=1, topics=["llm"]), parents={"post-training": "llm", "rag": "llm"}
    )
    assert relevance[0] == relevance[1] > 50 and reasons[0] == Reason.TOPIC
    only, _ = score(
        papers, ProfileRow(id=2, topics=["post-training"]), parents={"post-training": "llm"}
    )
    assert only[0] > 50 and only[1] == 0


def test_interests_and_seed_papers_rank_similar_papers_higher():
    papers = [
        paper(1, "Quantum error correction with surface codes", "Logical qubits and decoders."),
        paper(2, "Graph neural networks for molecules", "Message passing on molecular graphs."),
    ]
    profile = ProfileRow(
        id=1,
        interests="fault-tolerant quantum computing, decoders for surface codes",
        seed_texts=["Decoding the surface code with neural networks: logical error rates"],
    )
    relevance, reasons = score(papers, profile)
    assert relevance[0] > relevance[1]
    assert reasons[0] == Reason.TEXT


def test_embeddings_when_every_paper_has_one_rank_by_closeness_to_seed_papers():
    near, far = np.array([1.0, 0.1, 0.0]), np.array([0.0, 0.2, 1.0])
    papers = [paper(1, "A", embedding=far), paper(2, "B", embedding=near)]
    profile = ProfileRow(id=1, embedding=np.array([0.9, 0.0, 0.1]))
    relevance, reasons = score(papers, profile)
    assert relevance[1] > 50 and relevance[0] == 0 and reasons[1] == Reason.TEXT
    # a paper without a vector: embeddings are not used that day, nothing breaks
    mixed, _ = score([paper(1, "A", embedding=near), paper(2, "B")], profile)
    assert mixed == [0, 0]


def test_less_like_this_lowers_similar_papers_and_more_raises_them():
    papers = [
        paper(1, "Scaling laws for sparse mixture of experts", "Experts routing and load balance."),
        paper(2, "Bayesian optimisation of chemical reactions", "Gaussian processes in the lab."),
    ]
    base = ProfileRow(id=1, keywords=["experts", "Gaussian processes"])
    before, _ = score(papers, base)
    less, _ = score(papers, replace(base, less_texts=["Mixture of experts routing at scale"]))
    more, _ = score(papers, replace(base, more_texts=["Mixture of experts routing at scale"]))
    assert less[0] < before[0] < more[0]
    assert less[1] == before[1] == more[1]


def test_replacements_rank_below_new_papers_unless_the_reader_wants_updates():
    papers = [
        paper(1, "Diffusion language models", announce_type="replace"),
        paper(2, "Diffusion language models", announce_type="new"),
    ]
    plain, _ = score(papers, ProfileRow(id=1, keywords=["diffusion language models"]))
    updates, _ = score(
        papers, ProfileRow(id=1, keywords=["diffusion language models"], include_updates=True)
    )
    assert plain[0] < plain[1]
    assert updates[0] == updates[1]


def test_scores_are_calibrated_whatever_else_the_day_holds():
    target = paper(1, "Causal discovery with latent confounders", "We learn DAGs.")
    profile = ProfileRow(id=1, keywords=["causal discovery"], categories=["cs.LG"])
    alone, _ = score([target], profile)
    crowd = [target] + [
        paper(i, f"Causal discovery paper {i}", "causal discovery") for i in range(2, 40)
    ]
    with_crowd, _ = score(crowd, profile)
    assert alone[0] == with_crowd[0]


def test_readers_are_scored_in_chunks_with_the_same_result():
    papers = [paper(i, f"Paper {i} on topic {i % 3}", f"keyword{i % 5}") for i in range(30)]
    profiles = [ProfileRow(id=i, keywords=[f"keyword{i % 5}", f"topic {i % 3}"]) for i in range(25)]
    index = PaperIndex(papers, profiles)
    whole = np.vstack(
        [c.relevance for c in scores_compute(papers, profiles, index=index, chunk=100)]
    )
    chunks = np.vstack(
        [c.relevance for c in scores_compute(papers, profiles, index=index, chunk=7)]
    )
    assert (whole == chunks).all()


words = st.sampled_from(
    ["learning", "quantum", "causal", "models", "graph", "optimal", "transport", "bayesian"]
)
titles = st.lists(words, min_size=1, max_size=8).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(
    titles=st.lists(titles, min_size=1, max_size=6),
    keywords=st.lists(words, max_size=3),
    extra=words,
)
def test_properties_range_monotonic_deterministic(titles, keywords, extra):
    papers = [paper(i, t, t) for i, t in enumerate(titles)]
    profile = ProfileRow(id=1, keywords=keywords, categories=["cs.LG"])
    first, _ = score(papers, profile)
    again, _ = score(papers, profile)
    more, _ = score(papers, replace(profile, keywords=[*keywords, extra]))
    assert first == again  # deterministic
    assert all(0 <= r <= 100 for r in first)  # in range
    assert all(m >= f for m, f in zip(more, first, strict=True))  # a keyword never lowers a score
