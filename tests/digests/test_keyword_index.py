"""The readers' keywords found in the day's papers at enrichment and kept: each scoring run that
reads them (in any order of the papers, with keywords added since) scores exactly as one that
finds everything afresh."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from bench.corpus import Corpus
from digests.daily import day_enrich
from digests.ingest import day_ingest
from digests.models import Paper
from digests.models.paper import announced_between
from digests.scoring import keyword_index, text_cache
from digests.scoring.inputs import paper_rows, readers_keywords
from digests.scoring.keyword_index import STORE, keywords_indexed, keywords_prepare
from digests.scoring.paper_index import PaperIndex
from digests.scoring.scores import scores_compute
from digests.scoring.text_cache import records_get, records_put
from digests.scoring.text_terms import papers_terms, terms_forget
from subscribers.models import Subscriber
from tests.factories import make_subscriber

DAY = dt.date(2026, 6, 18)


@pytest.fixture(autouse=True)
def _store(tmp_path, monkeypatch):
    monkeypatch.setattr(text_cache, "cache_root", tmp_path / "scoring")
    terms_forget()
    yield
    terms_forget()


def _keywords(profiles) -> set[str]:
    return {k for x in profiles for k in [*x.keywords, *x.exclude_keywords]}


def _scored(papers, profiles, parents) -> tuple[np.ndarray, np.ndarray]:
    """Relevance and each reader's top 10, from a process that kept nothing in memory."""
    terms_forget()
    index = PaperIndex(papers, profiles, semantic="none")
    chunks = list(scores_compute(papers, profiles, parents=parents, chunk=70, index=index, top=10))
    terms_forget()
    return np.vstack([c.relevance for c in chunks]), np.vstack([c.top for c in chunks])


def test_kept_keywords_score_as_keywords_found_afresh():
    corpus = Corpus(11)
    papers = corpus.papers(240)
    profiles = corpus.profiles(300, corpus.texts(20))
    expected = _scored(papers, profiles, corpus.parents)  # nothing kept: everything found now
    assert not (text_cache.cache_root / STORE).exists()

    # Enrichment saw the papers in another order and more readers (more keywords) than score.
    shuffled = random.Random(3).sample(papers, len(papers))
    others = corpus.profiles(200, corpus.texts(5))
    looked_for = keywords_prepare(shuffled, _keywords(profiles) | _keywords(others))
    assert looked_for > len({k for x in profiles for k in x.keywords})
    kept = _scored(papers, profiles, corpus.parents)
    assert np.array_equal(kept[0], expected[0]) and np.array_equal(kept[1], expected[1])
    assert (expected[0] >= 60).any()

    # Readers who added keywords since: their phrases are found now, among the kept ones.
    for x in profiles[::9]:
        x.keywords = [*x.keywords, "masked diffusion", f"{x.keywords[0]} zeolite", "zeolite"]
    added = _scored(papers, profiles, corpus.parents)
    terms_forget()
    settled = PaperIndex(papers, profiles, semantic="none")  # (what is kept: unchanged)
    assert "zeolit" in settled.phrase_ids  # (stems)
    assert list(settled.phrase_ids)[-1] == "zeolit"  # (after the kept ones)
    text_cache.cache_root = text_cache.cache_root.parent / "elsewhere"  # nothing kept
    afresh = _scored(papers, profiles, corpus.parents)
    assert np.array_equal(added[0], afresh[0]) and np.array_equal(added[1], afresh[1])
    assert not np.array_equal(added[0], expected[0])  # the added keywords do score


def test_kept_result_is_read_once_and_holds_the_papers_phrases():
    corpus = Corpus(5)
    papers = corpus.papers(60)
    keywords = _keywords(corpus.profiles(80, corpus.texts(5))) | {"nul\0keyword"}
    keywords_prepare(papers, keywords)
    terms_forget()
    terms = papers_terms(papers[::-1])
    kept = keywords_indexed(terms, keywords)
    text_cache.cache_root = text_cache.cache_root.parent / "none"
    terms_forget()
    afresh = keywords_indexed(papers_terms(papers[::-1]), keywords)
    assert _by_name(kept) == _by_name(afresh) and kept.found.nnz > 0
    assert kept.found.has_sorted_indices
    assert kept.phrases[-1] == "nul keyword"  # (a NUL in a keyword: not kept, found each run)
    kept_only = {k for k in keywords if "\0" not in k}
    assert _by_name(keywords_indexed(terms, kept_only)) == _by_name(
        keywords_indexed(papers_terms(papers[::-1]), kept_only)
    )


def _by_name(index: keyword_index.KeywordIndex) -> tuple[dict, set]:
    """Each keyword's phrases, and each text's phrases found, by the phrases themselves."""
    phrases = index.phrases
    columns = {
        k: (phrases[code],) if code >= 0 else tuple(phrases[c] for c in index.several.get(k, ()))
        for k, code in index.codes.items()
    }
    found = index.found.tocoo()
    cells = zip(found.row.tolist(), found.col.tolist(), strict=True)
    return columns, {(r, phrases[c]) for r, c in cells}


def test_a_kept_result_that_does_not_hold_together_is_found_again(caplog):
    corpus = Corpus(6)
    papers = corpus.papers(40)
    keywords = _keywords(corpus.profiles(50, corpus.texts(5)))
    keywords_prepare(papers, keywords)
    terms = papers_terms(papers)
    key = keyword_index._papers_key(terms.keys)
    stored = records_get(STORE, [key])[key]
    broken = (*stored[:2], stored[2][:-1], *stored[3:])  # a code short
    terms_forget()
    records_put(STORE, [key], [broken], persist=True)
    terms_forget()
    found = keywords_indexed(papers_terms(papers), keywords)
    text_cache.cache_root = text_cache.cache_root.parent / "none"
    terms_forget()
    assert found.codes == keywords_indexed(papers_terms(papers), keywords).codes


def test_papers_not_all_in_the_kept_result_are_found_afresh():
    corpus = Corpus(8)
    papers = corpus.papers(50)
    keywords = _keywords(corpus.profiles(40, corpus.texts(5)))
    keywords_prepare(papers[:30], keywords)
    terms_forget()
    assert keyword_index._kept(papers_terms(papers)) is None  # another set of papers
    assert keyword_index._kept(papers_terms(papers[:30][::-1])) is not None


@pytest.mark.django_db
def test_active_readers_keywords_are_looked_for():
    make_subscriber(keywords=["preference optimization", 7], exclude_keywords=["survey"])
    make_subscriber(keywords=["quantum error correction"], status=Subscriber.Status.UNSUBSCRIBED)
    make_subscriber(keywords={"not": "a list"})
    assert readers_keywords() == {"preference optimization", "survey"}


@pytest.mark.django_db
def test_enrichment_keeps_what_the_days_scoring_reads(recorded_arxiv, catalogue):
    day_ingest(categories=["cs.AI", "cs.CL", "cs.LG"], date=DAY)
    make_subscriber(keywords=["preference optimization"], exclude_keywords=["survey"])
    make_subscriber(keywords=["quantum error correction"], status=Subscriber.Status.UNSUBSCRIBED)

    day_enrich(date=DAY)

    papers = list(Paper.objects.filter(announced_between(DAY, DAY)).order_by("pk"))
    terms_forget()
    kept = keyword_index._kept(papers_terms(paper_rows(papers)))
    assert kept is not None
    assert set(kept.codes) == {"preference optimization", "survey"}
    assert kept.found.nnz > 0  # the day's papers do speak of preference optimization
