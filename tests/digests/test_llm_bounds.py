"""A hanging, failing or slow LLM delays the day by a bounded time, and the digest goes out.

Over real sockets: a server that accepts connections and never answers, and the stub LLM
answering slowly, both through the real `openai` client.
"""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest
from django.core.management import call_command

from devtools.stub_server import SilentServer
from digests.brief import briefs_write
from digests.enrich import papers_enrich
from digests.ingest import day_ingest
from digests.llm import calls as llm_calls
from digests.llm.breaker import LLMUnavailable, llm_gate, llm_reading_start
from digests.llm.embeddings import texts_embed
from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Delivery, Digest, Enrichment, Paper, Topic
from digests.readings import readings_for
from tests.factories import make_subscriber

DAY = dt.date(2026, 6, 18)


@pytest.fixture
def demo_day(recorded_arxiv, catalogue):
    day_ingest(categories=["cs.AI", "cs.CL", "cs.LG"], date=DAY)
    return list(Paper.objects.filter(announce_date=DAY).order_by("arxiv_id"))


@pytest.fixture
def silent_llm(settings):
    server = SilentServer()
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_BASE_URL = server.base_url
    settings.LLM_MODEL = "never-answers"
    settings.LLM_EMBEDDING_MODEL = "never-answers-either"
    settings.LLM_TIMEOUT = 1
    yield server
    server.stop()


def _timed(*args: str) -> float:
    started = time.monotonic()
    call_command(*args, stdout=io.StringIO())
    return time.monotonic() - started


@pytest.mark.django_db
def test_an_llm_that_never_answers_delays_enrich_and_send_by_a_few_timeouts(
    demo_day, silent_llm, settings, outbox_dir
):
    # given readers in two languages, and an LLM that accepts connections and never answers
    topic = Topic.objects.get(slug="post-training")
    for language in ("zh", "en"):
        make_subscriber(language=language, topics=[topic], min_relevance=1)

    # when the day is enriched, then sent, as the commands do
    enrich = _timed("enrich", "--date", DAY.isoformat())
    send = _timed("send_digests", "--now", "--date", DAY.isoformat())

    # then each waited a bounded number of timeouts: paper embeddings, interest embeddings and
    # the first slots of enrichment (each timeout tried once), then the breaker opened and
    # every other call of the day (the other papers, the briefs, the send's embeddings) was
    # not made. With LLM_TIMEOUT at its 60 s default that is minutes, not hours.
    timeouts = 2 * (1 + 1 + settings.LLM_CONCURRENCY)
    assert silent_llm.connections <= timeouts
    assert enrich < timeouts * settings.LLM_TIMEOUT + 10, enrich
    assert send < 10, send
    # and every digest went out, with its papers untranslated and saying why
    assert Delivery.objects.filter(status="sent").count() == Digest.objects.count() == 2
    assert len(list(outbox_dir.glob("*.eml"))) == 2
    for digest in Digest.objects.select_related("subscriber"):
        papers = [item.paper for item in digest.items.select_related("paper")]
        readings = readings_for(papers, digest.subscriber.language)
        assert papers and all(readings[p.pk].llm is None for p in papers)
    errors = set(
        Enrichment.objects.filter(prompt_version=ENRICH_PROMPT_VERSION).values_list(
            "error", flat=True
        )
    )
    assert "APITimeoutError: Request timed out." in errors
    assert any(e.startswith("not tried: the LLM failed 3 times in a row") for e in errors)


@pytest.mark.django_db
def test_the_breaker_is_one_for_enrichment_briefs_and_embeddings(demo_day, silent_llm, settings):
    # given the breaker opened by enrichment
    settings.LLM_EMBEDDING_MODEL = ""
    settings.LLM_CONCURRENCY = 3
    make_subscriber(language="zh", topics=[Topic.objects.get(slug="post-training")])
    llm_reading_start(day=DAY)
    report = papers_enrich(papers=demo_day, languages=["zh"], day=DAY)
    assert report.outage.startswith("the LLM failed 3 times in a row")
    connections = silent_llm.connections

    # then an embedding at send time is not asked for
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="failed 3 times in a row"):
        texts_embed(["reinforcement learning"], model="embed", day=DAY)
    assert time.monotonic() - started < 0.5
    # nor a brief
    assert briefs_write(date=DAY, languages=["zh"]).calls == 0
    assert silent_llm.connections == connections
    # and a new reading of the day (a re-run) closes the breaker again
    llm_reading_start(day=DAY)
    assert llm_gate(DAY).closed() == ""


@pytest.mark.django_db
def test_a_slow_llm_stops_at_the_days_deadline_and_the_rest_stays_untranslated(
    demo_day, llm_stub, settings
):
    # given a model taking 0.4 s an answer, one at a time, and a one-second deadline
    settings.LLM_CONCURRENCY = 1
    settings.LLM_DAY_DEADLINE = 1
    llm_stub.plan("hang", seconds=0.4, times=100)
    make_subscriber(language="zh", topics=[Topic.objects.get(slug="post-training")])

    llm_reading_start(day=DAY)
    report = papers_enrich(papers=demo_day, languages=["zh"], day=DAY)

    # then the calls stopped at the deadline, and the rest are recorded as not tried
    assert 1 <= report.enriched <= 4
    assert report.outage.startswith("the day's LLM deadline passed (LLM_DAY_DEADLINE=1 s)")
    not_tried = Enrichment.objects.filter(error__startswith="not tried: the day's LLM deadline")
    assert not_tried.count() == report.failed == 22 - report.enriched
    assert llm_stub.chat_calls == report.enriched


@pytest.mark.django_db
def test_a_5xx_is_tried_again_more_often_than_a_timeout(demo_day, llm_stub, settings):
    settings.LLM_TIMEOUT = 0.3
    paper = Paper.objects.get(arxiv_id="2606.18831")
    # four 503s in a row, then an answer: still read
    llm_stub.plan("status", status=503, retry_after=0.01, times=llm_calls.CLIENT_RETRIES)
    assert papers_enrich(papers=[paper], languages=["zh"], day=DAY).enriched == 1
    assert llm_stub.chat_calls == llm_calls.CLIENT_RETRIES + 1
    # two timeouts in a row: given up after the second
    Enrichment.objects.filter(prompt_version=ENRICH_PROMPT_VERSION).delete()
    llm_stub.plan("hang", seconds=2, times=2)
    assert papers_enrich(papers=[paper], languages=["en"], day=DAY).failed == 1
    assert llm_stub.chat_calls == llm_calls.CLIENT_RETRIES + 1 + 2
