"""The enrichment prompt names each paper's own server (over real HTTP, to the stub LLM)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from digests.enrich import papers_enrich
from digests.llm.prompts import DATA_BEGIN, DATA_END, ENRICH_PROMPT_VERSION
from digests.models import Enrichment, Source
from tests.factories import make_paper

DAY = dt.date(2026, 6, 18)


@pytest.mark.django_db
def test_each_paper_goes_to_the_model_named_by_its_own_server(llm_stub):
    # given a paper of each source
    papers = [
        make_paper(arxiv_id="2606.18831", title="Distillation on policy"),
        make_paper(
            arxiv_id="10.1101/2021.09.30.462652", source=Source.BIORXIV,
            title="Triaging literature with machine learning", categories=["biorxiv:neuroscience"],
        ),
        make_paper(
            arxiv_id="10.1101/2021.12.05.21267037", source=Source.MEDRXIV,
            title="Psychiatric illness through language", categories=["medrxiv:psychiatry"],
        ),
    ]  # fmt: skip

    # when they are read in Chinese
    papers_enrich(papers=papers, languages=["zh"], day=DAY)

    # then each request's data names the paper's server, and the instructions call none of
    # them an arXiv paper
    sources = {}
    for request in llm_stub.requests:
        system, user = (m["content"] for m in request["body"]["messages"][:2])
        assert "arXiv papers" not in system and "arXiv, bioRxiv or medRxiv" in system
        document = json.loads(user[len(DATA_BEGIN) : -len(DATA_END)])
        sources[document["paper"]["title"]] = document["paper"]["source"]
    assert sources == {
        "Distillation on policy": "arXiv",
        "Triaging literature with machine learning": "bioRxiv",
        "Psychiatric illness through language": "medRxiv",
    }
    # and the model's readings are kept under the prompt's new version
    read = Enrichment.objects.filter(language="zh", status=Enrichment.Status.OK)
    assert read.count() == 3
    assert set(read.values_list("prompt_version", flat=True)) == {ENRICH_PROMPT_VERSION}
