"""One store for the vectors of texts: the in-process model's and the embedding server's."""

from __future__ import annotations

import numpy as np

from digests.scoring import text_cache
from digests.scoring.semantic import DISK_MINIMUM, semantic_embed, semantic_forget
from digests.scoring.vector_store import text_key, vectors_forget, vectors_get, vectors_put


def test_vectors_written_by_one_process_are_read_by_the_next(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    keys = [text_key("model", f"text {n}") for n in range(3)]
    vectors = np.eye(3, dtype=np.float32)
    vectors_put("embeddings-x", keys, vectors, persist=True)
    vectors_forget("embeddings-x")  # a new process

    found = vectors_get("embeddings-x", keys)

    assert list(found) == keys and np.array_equal(np.vstack(list(found.values())), vectors)
    assert list((tmp_path / "scoring" / "embeddings-x").glob("*.npz"))
    assert vectors_get("embeddings-y", keys) == {}  # stores do not mix


def test_many_shards_merge_into_one_and_keep_every_vector(settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(text_cache, "MAX_SHARDS", 3)  # the shards are text_cache's
    keys = [text_key(str(n)) for n in range(6)]
    for n, key in enumerate(keys):
        vectors_put("s", [key], np.full((1, 2), n, dtype=np.float32), persist=True)
    vectors_forget("s")

    found = vectors_get("s", keys)

    assert len(list((tmp_path / "scoring" / "s").glob("*.npz"))) <= 3
    assert [float(found[k][0]) for k in keys] == [0, 1, 2, 3, 4, 5]


def test_semantic_vectors_are_computed_once_and_small_calls_skip_the_disk(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    semantic_forget()
    texts = [f"surface code decoder number {n}" for n in range(DISK_MINIMUM)]
    first = semantic_embed(texts, "wordllama")
    shards = list((tmp_path / "scoring" / "semantic-wordllama").glob("*.npz"))
    assert first is not None and len(shards) == 1
    semantic_forget()
    again = semantic_embed(texts, "wordllama")
    assert again is not None and np.allclose(first, again)
    assert list((tmp_path / "scoring" / "semantic-wordllama").glob("*.npz")) == shards
    semantic_embed(["one more text"], "wordllama")  # a preview: computed, nothing written
    assert list((tmp_path / "scoring" / "semantic-wordllama").glob("*.npz")) == shards


def test_papers_embedded_at_enrichment_are_read_not_computed_when_scoring(
    settings, tmp_path, monkeypatch
):
    from digests.scoring import semantic
    from digests.scoring.paper_index import PaperIndex
    from digests.scoring.rows import PaperRow

    settings.DATA_DIR = tmp_path
    papers = [
        PaperRow(
            id=n, title=f"Paper {n}", abstract="Codes.", authors=[], affiliations=[], categories=[]
        )
        for n in range(DISK_MINIMUM)  # fewer are computed: cheaper than reading the disk
    ]
    semantic_forget()
    assert semantic.papers_semantic_prepare(papers, "wordllama") == DISK_MINIMUM
    assert semantic.papers_semantic_prepare(papers, "wordllama") == 0  # once
    semantic_forget()  # scoring runs in another process

    def computed(texts):
        raise AssertionError(f"tokenised again: {texts}")

    monkeypatch.setattr(semantic, "_compute", computed)
    index = PaperIndex(papers, [], semantic="wordllama")
    assert index.semantic is not None and index.semantic.shape == (DISK_MINIMUM, 256)
