"""Readers' free-text interests embedded with LLM_EMBEDDING_MODEL, over the stub's real HTTP."""

from __future__ import annotations

import logging

import pytest

from digests.llm.embeddings import papers_embed
from digests.scoring.inputs import paper_rows, profile_rows
from digests.scoring.reader_embeddings import reader_embeddings_forget
from digests.scoring.scores import scores_compute
from digests.scoring.signals import Signal
from tests.factories import make_paper, make_subscriber

MOLECULES = "graph neural networks for molecule property prediction"


@pytest.fixture
def embedded(llm_stub, settings, tmp_path):
    """Two papers embedded by the stub, one about the reader's interests; a fresh cache."""
    settings.LLM_EMBEDDING_MODEL = "stub-embed"
    settings.DATA_DIR = tmp_path
    reader_embeddings_forget()
    papers = [
        make_paper(
            title="Graph neural networks for molecule property prediction",
            abstract="Message passing on molecule graphs predicts their property values.",
        ),
        make_paper(
            title="Speech recognition with streaming transformers",
            abstract="Audio transcription benchmarks in noisy rooms.",
        ),
    ]
    assert papers_embed(papers) == 2
    yield papers
    reader_embeddings_forget()


def _embedding_points(papers, reader) -> list[float]:
    rows = paper_rows(papers)
    profile = profile_rows([reader])[0]
    (chunk,) = list(scores_compute(rows, [profile], workers=1))
    shares = chunk.shares(0)
    return [shares.of(i).get(Signal.EMBEDDING, 0.0) for i in range(len(papers))]


@pytest.mark.django_db
def test_a_free_text_only_reader_gets_an_embedding_that_ranks_matching_papers_first(embedded):
    reader = make_subscriber(interests=MOLECULES)

    (row,) = profile_rows([reader])

    assert row.embedding is not None and row.embedding.any()
    matching, unrelated = _embedding_points(embedded, reader)
    assert matching > unrelated
    assert matching > 0


@pytest.mark.django_db
def test_each_distinct_interests_text_is_embedded_once_across_runs(embedded, llm_stub):
    readers = [
        make_subscriber(interests=MOLECULES),
        make_subscriber(interests=MOLECULES),
        make_subscriber(interests="speech recognition"),
        make_subscriber(interests="   "),
    ]
    before = llm_stub.embedding_calls

    first = profile_rows(readers)
    assert llm_stub.embedding_calls == before + 1  # one batched call
    sent = llm_stub.requests[-1]["body"]["input"]
    assert sorted(sent) == sorted([MOLECULES, "speech recognition"])

    second = profile_rows(readers)
    reader_embeddings_forget()  # a new process: the vectors are read from DATA_DIR
    third = profile_rows(readers)

    assert llm_stub.embedding_calls == before + 1
    for rows in (second, third):
        for a, b in zip(first, rows, strict=True):
            assert (a.embedding is None) == (b.embedding is None)
            if a.embedding is not None:
                assert a.embedding == pytest.approx(b.embedding)
    assert first[3].embedding is None  # blank interests: nothing to embed


@pytest.mark.django_db
def test_a_down_embedding_server_leaves_scores_computed_without_it(
    embedded, settings, monkeypatch, caplog
):
    monkeypatch.setattr("digests.llm.calls.CLIENT_RETRIES", 0)
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens there
    reader = make_subscriber(interests=MOLECULES)

    with caplog.at_level(logging.WARNING, logger="digests.scoring.reader_embeddings"):
        (row,) = profile_rows([reader])
        rows = paper_rows(embedded)
        (chunk,) = list(scores_compute(rows, [row], workers=1))

    assert row.embedding is None
    assert "interests not embedded" in caplog.text
    relevance = chunk.relevance[0]
    assert relevance[0] > relevance[1]  # the text signals still rank the matching paper first
    assert Signal.EMBEDDING not in chunk.shares(0).of(0)
