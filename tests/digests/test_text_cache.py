"""Texts' stems, term counts and phrases kept across processes: the same index as computed fresh."""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
import pytest
from scipy import sparse

from bench.corpus import Corpus
from digests.scoring import bm25, text_cache, text_terms
from digests.scoring.matching import stems
from digests.scoring.paper_index import PaperIndex
from digests.scoring.text_cache import records_forget, records_get, records_put
from digests.scoring.text_terms import papers_terms, papers_terms_prepare, terms_forget

MATRICES = (
    "in_title", "in_abstract", "by_author", "primary", "cross", "hits", "bm25_t", "in_title_t",
)  # fmt: skip


@pytest.fixture
def day():
    corpus = Corpus(7)
    papers = corpus.papers(150)
    profiles = corpus.profiles(800, corpus.texts(40))
    return corpus, papers, profiles


@pytest.fixture(autouse=True)
def _fresh():
    terms_forget()
    yield
    terms_forget()


def _fresh_index(papers, profiles, settings, tmp_path) -> PaperIndex:
    """Computed from the texts alone: no store on disk, nothing kept in memory."""
    settings.DATA_DIR = tmp_path / "fresh"
    terms_forget()
    index = PaperIndex(papers, profiles, semantic="none")
    terms_forget()
    return index


def _same_index(a: PaperIndex, b: PaperIndex) -> None:
    assert a.title_words == b.title_words and a.abstract_words == b.abstract_words
    for name in MATRICES:
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and x.dtype == y.dtype, name
        for part in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(x, part), getattr(y, part)), (name, part)
    assert a.phrase_ids == b.phrase_ids
    assert dict(a.columns_of_keyword) == dict(b.columns_of_keyword)
    assert np.array_equal(a.frequencies.df, b.frequencies.df)
    assert a.frequencies.average_length == b.frequencies.average_length
    assert np.array_equal(a.idf, b.idf)


def _query_matrix(texts: list[str]) -> sparse.csr_matrix:
    return bm25._query_counts(texts)


def test_prepared_papers_and_kept_readers_give_the_index_computed_fresh(day, settings, tmp_path):
    _corpus, papers, profiles = day
    fresh = _fresh_index(papers, profiles, settings, tmp_path)
    settings.DATA_DIR = tmp_path / "data"
    assert papers_terms_prepare(papers) == len(papers)  # at enrichment
    terms_forget()  # the scoring run: another process
    first = PaperIndex(papers, profiles, semantic="none")  # day 1: the readers' texts kept
    terms_forget()
    second = PaperIndex(papers, profiles, semantic="none")  # day 2: read from the stores

    _same_index(first, fresh)
    _same_index(second, fresh)
    stores = tmp_path / "data" / "scoring"
    for name in (text_terms.PAPER_STORE, bm25.QUERY_STORE, text_terms.KEYWORD_STORE):
        assert len(list((stores / name).glob("*.npz"))) == 1, name  # day 2 wrote nothing new
    assert papers_terms_prepare(papers) == 0  # prepared already


def test_query_counts_read_from_the_store_are_those_counted(day, settings, tmp_path):
    _corpus, _papers, profiles = day
    texts = list(dict.fromkeys(p.interests for p in profiles if p.interests))
    assert len(texts) >= bm25.QUERY_DISK_MINIMUM
    settings.DATA_DIR = tmp_path / "fresh"
    counted = _query_matrix(texts)
    terms_forget()
    settings.DATA_DIR = tmp_path / "data"
    assert bm25.queries_prepare(texts) == len(texts)
    terms_forget()
    assert bm25.queries_prepare(texts) == 0  # all read from disk
    kept = _query_matrix(texts)
    for part in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(counted, part), getattr(kept, part)), part


def test_a_changed_text_is_computed_again(day, settings, tmp_path):
    _corpus, papers, profiles = day
    settings.DATA_DIR = tmp_path / "data"
    papers_terms_prepare(papers)
    PaperIndex(papers, profiles, semantic="none")
    terms_forget()
    papers[3].abstract += " with a quantum error correction decoder"
    profiles[5].keywords.append("surface code decoders")
    rewritten = [p for p in profiles if p.interests][:120]
    for profile in rewritten:
        profile.interests += " and spectral graph sparsifiers"

    assert papers_terms_prepare(papers) == 1  # the changed paper only
    terms_forget()
    assert bm25.queries_prepare([p.interests for p in rewritten]) == len(rewritten)
    terms_forget()
    kept = PaperIndex(papers, profiles, semantic="none")
    fresh = _fresh_index(papers, profiles, settings, tmp_path)

    _same_index(kept, fresh)
    assert kept.abstract_words[3] == stems(papers[3].abstract)
    assert kept.abstract_words[3][-4:] == ["quantum", "error", "correct", "decod"]
    assert kept.columns_of_keyword["surface code decoders"]


def test_an_unwritable_data_dir_still_scores_with_a_warning(day, settings, tmp_path, caplog):
    _corpus, papers, profiles = day
    fresh = _fresh_index(papers, profiles, settings, tmp_path)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    settings.DATA_DIR = blocked  # DATA_DIR/scoring cannot be made

    with caplog.at_level(logging.WARNING, logger="digests.scoring.text_cache"):
        papers_terms_prepare(papers)
        terms_forget()
        index = PaperIndex(papers, profiles, semantic="none")

    _same_index(index, fresh)
    assert any("computed again" in r.getMessage() for r in caplog.records)


def test_records_of_strings_and_arrays_survive_a_new_process(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    keys: list[bytes | str] = [b"k" * 16, b"j" * 16, "a keyword", "é and ü"]
    records = [
        ("some stems", np.arange(n, dtype=np.int32), np.full(n, 0.5, dtype=np.float32))
        for n in range(4)
    ]
    records_put("r", keys[:2], records[:2], persist=True)
    records_put("r", keys[2:], records[2:], persist=True)
    records_forget("r")  # a new process

    found = records_get("r", keys)

    assert list(found) == keys
    for key, (text, ints, floats) in zip(keys, records, strict=True):
        got: Any = found[key]
        assert got[0] == text and np.array_equal(got[1], ints) and got[2].dtype == np.float32
        assert np.array_equal(got[2], floats) and got[1].dtype == np.int32


def test_shards_merge_corrupt_ones_are_skipped_and_memory_is_bounded(
    settings, tmp_path, monkeypatch
):
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(text_cache, "MAX_SHARDS", 3)
    for n in range(6):
        records_put("m", [f"text {n}"], [(str(n),)], persist=True)
    (tmp_path / "scoring" / "m" / "0-broken.npz").write_bytes(b"half a file")
    records_forget("m")

    found = records_get("m", [f"text {n}" for n in range(6)])

    assert [found[f"text {n}"][0] for n in range(6)] == ["0", "1", "2", "3", "4", "5"]
    assert len(list((tmp_path / "scoring" / "m").glob("*.npz"))) <= 4
    monkeypatch.setattr(text_cache, "CACHE_ENTRIES", 2)
    assert list(records_get("m", ["text 1"])) == ["text 1"]
    assert len(text_cache._store("m").memory) == 1  # only what was asked for is kept


def test_concurrent_writers_leave_every_record_readable(settings, tmp_path, monkeypatch):
    """Workers writing and merging shards at once (each its own store, as processes are)."""
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(text_cache, "MAX_SHARDS", 3)
    directory = tmp_path / "scoring" / "c"

    def write(worker: int) -> None:
        store = text_cache._Store()  # another process: nothing shared but the directory
        for n in range(8):
            key = f"worker {worker} text {n}"
            record = (key, np.array([worker, n], dtype=np.int32))
            text_cache._save(store, directory, [key], [record], text_cache.CACHE_ENTRIES)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    keys = [f"worker {w} text {n}" for w in range(4) for n in range(8)]
    found = records_get("c", keys)
    got: dict[Any, Any] = found
    assert all(got[k][0] == k and got[k][1].tolist() == [int(k[7]), int(k[-1])] for k in keys)
    assert not list(directory.glob(".*"))  # no temporary file left


def test_papers_terms_without_a_store_are_computed(day, settings):
    _corpus, papers, _profiles = day
    settings.DATA_DIR = None
    terms = papers_terms(papers[:5])
    assert terms.titles.shape[0] == 5 and terms.title_words[0]


def test_a_shard_being_written_is_neither_read_nor_merged_away(settings, tmp_path, monkeypatch):
    """Another process's temporary file (a dot-file until renamed) is left alone by both stores."""
    from digests.scoring import vector_store

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(text_cache, "MAX_SHARDS", 1)  # vector_store's shards are its too
    for name in ("t", "v"):
        (tmp_path / "scoring" / name).mkdir(parents=True)
        (tmp_path / "scoring" / name / ".123-9.tmp.npz").write_bytes(b"PK\x03\x04 half")
    for n in range(3):
        records_put("t", [f"text {n}"], [(str(n),)], persist=True)
        key = vector_store.text_key(str(n))
        vector_store.vectors_put("v", [key], np.ones((1, 2), dtype=np.float32), persist=True)
    records_forget("t")
    vector_store.vectors_forget("v")

    assert len(records_get("t", [f"text {n}" for n in range(3)])) == 3
    keys = [vector_store.text_key(str(n)) for n in range(3)]
    assert len(vector_store.vectors_get("v", keys)) == 3
    for name in ("t", "v"):
        assert (tmp_path / "scoring" / name / ".123-9.tmp.npz").exists()


def test_readers_rows_computed_with_the_index_are_those_of_text_by_text(day, settings, tmp_path):
    """The index's rows of every reader's text (BM25 query, embedding) give the matrices the
    chunks computed text by text: the same entries in the same order."""
    import copy

    from digests.scoring.profile_matrices import ProfileMatrices

    corpus, papers, profiles = day
    settings.DATA_DIR = tmp_path
    banked = PaperIndex(papers, profiles, semantic="wordllama")
    plain = copy.copy(banked)
    plain.queries, plain.readers_embedded, plain.query_rows = None, None, {}
    plain.__dict__.pop("_similarity_rows", None)
    chunk = profiles[100:400]
    a = ProfileMatrices.build(banked, chunk, corpus.parents)
    b = ProfileMatrices.build(plain, chunk, corpus.parents)

    assert a.text.nnz and a.semantic is not None and b.semantic is not None
    assert not banked.query_rows and plain.query_rows  # read from the bank / text by text
    for part in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(a.text, part), getattr(b.text, part)), part
    assert np.array_equal(a.semantic, b.semantic)
    assert np.array_equal(a.more.per_text, b.more.per_text)
    assert np.array_equal(a.less.per_text, b.less.per_text)


def test_an_index_reusing_the_papers_part_embeds_each_call_s_own_readers(day, settings, tmp_path):
    from digests.scoring.profile_matrices import ProfileMatrices

    corpus, papers, profiles = day
    settings.DATA_DIR = tmp_path
    chunks = [profiles[:300], profiles[300:600]]
    reused = [PaperIndex.reusing(papers, chunk, semantic="wordllama") for chunk in chunks]
    assert reused[0].bm25_t is reused[1].bm25_t  # the papers' part, indexed once
    for index, chunk in zip(reused, chunks, strict=True):
        fresh = PaperIndex(papers, chunk, semantic="wordllama")
        ours = ProfileMatrices.build(index, chunk, corpus.parents)
        theirs = ProfileMatrices.build(fresh, chunk, corpus.parents)
        assert ours.semantic is not None and theirs.semantic is not None
        assert np.array_equal(ours.semantic, theirs.semantic)
        assert (ours.text != theirs.text).nnz == 0


def test_the_newest_shards_are_read_first_and_only_until_every_key_is_found(settings, tmp_path):
    """A scoring run finds the day's papers in the shard their enrichment wrote last, without
    reading the earlier days'."""
    settings.DATA_DIR = tmp_path
    for day in range(3):
        keys = [f"day {day} paper {n}" for n in range(4)]
        records_put("p", keys, [(k,) for k in keys], persist=True, entries=6)
    records_forget("p")

    today = [f"day 2 paper {n}" for n in range(4)]
    assert list(records_get("p", today)) == today
    assert len(text_cache._store("p").loaded) == 1  # today's shard only
    assert list(records_get("p", ["day 0 paper 1"])) == ["day 0 paper 1"]
    assert len(text_cache._store("p").loaded) == 3
