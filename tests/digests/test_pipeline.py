"""The daily pipeline end to end on the shipped recorded day, over real HTTP."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest
from django.core.management import call_command

from digests.daily import categories_needed
from digests.models import Delivery, Digest, Paper
from tests.factories import make_subscriber, make_topic

DAY = dt.date(2026, 6, 18)


@pytest.fixture
def llm_topic():
    return make_topic(
        slug="post-training",
        names={"en": "Post-training", "zh": "后训练"},
        categories=["cs.CL", "cs.AI", "cs.LG"],
        keywords=["reinforcement learning", "preference optimization", "distillation", "GRPO"],
    )


@pytest.mark.django_db
def test_run_daily_ingests_the_recorded_day_and_writes_one_eml_per_subscriber(
    recorded_arxiv, outbox_dir, llm_topic
):
    # given two active readers following the post-training topic and one pending reader
    make_subscriber(email="ada@example.org", topics=[llm_topic], min_relevance=10)
    make_subscriber(email="bob@example.org", topics=[llm_topic], min_relevance=10)
    make_subscriber(email="pending@example.org", topics=[llm_topic], status="pending")

    # when the whole pipeline runs for the recorded day
    call_command("run_daily", "--date", "2026-06-18")

    # then every paper of the feeds is stored with its arXiv fields
    assert Paper.objects.filter(announce_date=DAY).count() == 22
    paper = Paper.objects.get(arxiv_id="2606.18831")
    assert paper.version == 1
    assert paper.announce_type == "new"
    assert paper.primary_category == "cs.CL"
    assert paper.title.startswith("Beyond Reward Engineering")
    replaced = Paper.objects.get(arxiv_id="2410.15595")
    assert replaced.announce_type == "replace"
    # and each active reader got exactly one e-mail whose HTML lists recorded papers
    files = sorted(outbox_dir.glob("*.eml"))
    assert len(files) == 2
    recipients = set()
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        recipients.add(message["To"])
        html = message.get_body(preferencelist=("html",)).get_content()
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert "arxiv.org/abs/" in html
        assert "2026-06-18" in message["Subject"]
        first_item = Digest.objects.get(subscriber__email=message["To"]).items.get(rank=1)
        assert first_item.paper.title[:40] in text
    assert recipients == {"ada@example.org", "bob@example.org"}
    assert Delivery.objects.filter(status="sent").count() == 2


@pytest.mark.django_db
def test_run_daily_twice_sends_nothing_more(recorded_arxiv, outbox_dir, llm_topic):
    # given a day already run once
    make_subscriber(email="ada@example.org", topics=[llm_topic], min_relevance=10)
    call_command("run_daily", "--date", "2026-06-18")
    papers_before = list(Paper.objects.values_list("arxiv_id", "version", "updated_at"))

    # when it runs again
    call_command("run_daily", "--date", "2026-06-18")

    # then no paper changed and no second e-mail was written
    assert list(Paper.objects.values_list("arxiv_id", "version", "updated_at")) == papers_before
    assert len(list(outbox_dir.glob("*.eml"))) == 1
    assert Digest.objects.count() == 1


@pytest.mark.django_db
def test_the_categories_fetched_are_those_active_readers_need():
    # given an active reader with a category and a topic, and inactive readers with others
    topic = make_topic(slug="quantum", categories=["quant-ph", "cs.ET"])
    make_subscriber(categories=["cs.CL"], topics=[topic])
    make_subscriber(categories=["math.PR"], status="unsubscribed")
    make_subscriber(categories=["hep-th"], status="pending")
    make_topic(slug="unfollowed", categories=["astro-ph.CO"])

    # then only the active reader's categories and their topics' are fetched
    assert categories_needed() == {"cs.CL", "quant-ph", "cs.ET"}
