"""Topic curation in the admin: the form over the JSON fields, the preview, stale readings."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from digests.enrich import lexical_enrich
from digests.llm.prompts import ENRICH_PROMPT_VERSION
from digests.models import Enrichment, IngestDay, Topic
from digests.scoring.lexical import LEXICAL_VERSION
from staff.admin import topics as admin_topics
from subscribers.models import Subscriber
from tests.factories import make_enrichment, make_paper, make_subscriber, make_topic

DAY = dt.date(2026, 6, 18)


def topic_form(**changes: Any) -> dict[str, Any]:
    """The change form as a browser posts it, for a topic "distillation"."""
    form = {
        "slug": "distillation",
        "name_en": "Distillation",
        "name_zh": "蒸馏",
        "description_en": "Teaching a small model from a large one.",
        "description_zh": "",
        "keywords_text": "on-policy distillation\nknowledge distillation",
        "categories_text": "cs.CL, cs.LG",
        "parent": "",
        "position": "3",
        "_save": "Save",
    }
    return form | changes


def announced(day: dt.date = DAY) -> None:
    """Record `day` as an ingested announcement day, as the pipeline does."""
    IngestDay.objects.create(date=day, status=IngestDay.Status.ANNOUNCED, started_at=timezone.now())


@pytest.fixture
def enrich_queue(monkeypatch) -> list[str]:
    """Record the enrichment the admin queues instead of running it (no worker in tests)."""
    queued: list[str] = []
    monkeypatch.setattr(
        admin_topics, "day_enrich_latest", SimpleNamespace(delay=lambda: queued.append("day"))
    )
    return queued


@pytest.mark.django_db
def test_a_topic_is_created_with_a_name_per_language(admin_client: Client) -> None:
    # given a parent topic
    parent = make_topic(slug="llm")

    # when staff fill the add form with separate inputs per language and one keyword a line
    response = admin_client.post(
        reverse("admin:digests_topic_add"), topic_form(parent=str(parent.pk), featured="on")
    )

    # then the topic is stored with its JSON fields built from the inputs
    assert response.status_code == 302
    topic = Topic.objects.get(slug="distillation")
    assert topic.names == {"en": "Distillation", "zh": "蒸馏"}
    assert topic.descriptions == {"en": "Teaching a small model from a large one."}
    assert topic.keywords == ["on-policy distillation", "knowledge distillation"]
    assert topic.categories == ["cs.CL", "cs.LG"]
    assert (topic.parent, topic.featured, topic.position) == (parent, True, 3)


@pytest.mark.django_db
def test_the_change_form_shows_the_json_in_its_inputs_and_keeps_other_languages(
    admin_client: Client,
) -> None:
    # given a topic with a French name the form has no input for
    topic = make_topic(
        slug="distillation",
        names={"en": "Distillation", "zh": "蒸馏", "fr": "Distillation (fr)"},
        keywords=["knowledge distillation"],
    )

    # when staff open it, then change only the Chinese name
    page = admin_client.get(reverse("admin:digests_topic_change", args=[topic.pk]))
    admin_client.post(
        reverse("admin:digests_topic_change", args=[topic.pk]), topic_form(name_zh="知识蒸馏")
    )

    # then the inputs held the stored values, and the French name survived the save
    form = page.context["adminform"].form
    assert form["name_zh"].value() == "蒸馏"
    assert form["keywords_text"].value() == "knowledge distillation"
    topic.refresh_from_db()
    assert topic.names == {"en": "Distillation", "zh": "知识蒸馏", "fr": "Distillation (fr)"}


@pytest.mark.django_db
def test_an_unknown_arxiv_category_is_refused_by_name(admin_client: Client) -> None:
    # given the add form with one real and two made-up categories
    form = topic_form(categories_text="cs.CL cs.XX quant-bio")

    # when staff save it
    response = admin_client.post(reverse("admin:digests_topic_add"), form)

    # then the form comes back naming the bad codes, and nothing is written
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["categories_text"]
    assert errors == ["Not an arXiv category: cs.XX, quant-bio (see arxiv.org/category_taxonomy)."]
    assert not Topic.objects.filter(slug="distillation").exists()


@pytest.mark.django_db
def test_a_parent_that_would_make_a_cycle_is_refused(admin_client: Client) -> None:
    # given llm → post-training → distillation
    llm = make_topic(slug="llm")
    post_training = make_topic(slug="post-training", parent=llm)
    distillation = make_topic(slug="distillation", parent=post_training)

    # when staff make the grandchild the parent of the root
    response = admin_client.post(
        reverse("admin:digests_topic_change", args=[llm.pk]),
        topic_form(slug="llm", parent=str(distillation.pk)),
    )

    # then the form refuses it and the tree is unchanged
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"] == [
        "distillation cannot be the parent: it is this topic or one of its children, "
        "which would make a cycle."
    ]
    llm.refresh_from_db()
    assert llm.parent is None


@pytest.mark.django_db
def test_a_topic_cannot_be_its_own_parent(admin_client: Client) -> None:
    # given a topic
    topic = make_topic(slug="distillation")

    # when staff choose it as its own parent
    response = admin_client.post(
        reverse("admin:digests_topic_change", args=[topic.pk]), topic_form(parent=str(topic.pk))
    )

    # then the form refuses it
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors


@pytest.mark.django_db
def test_the_change_page_previews_the_last_days_matches_and_counts_followers(
    admin_client: Client,
) -> None:
    # given a topic, two active followers and an unsubscribed one, and three papers of the day
    topic = make_topic(slug="distillation", keywords=["on-policy distillation"])
    make_subscriber(topics=[topic])
    make_subscriber(topics=[topic])
    make_subscriber(topics=[topic], status=Subscriber.Status.UNSUBSCRIBED)
    make_paper(arxiv_id="2606.18831", title="Trust-region on-policy distillation")
    other = make_paper(arxiv_id="2606.17199", title="A survey of robots")
    make_paper(
        arxiv_id="2606.10001", title="On-policy distillation", announce_date=DAY.replace(day=17)
    )
    # the LLM tied the robot paper to the topic too
    make_enrichment(
        paper=other,
        prompt_version=ENRICH_PROMPT_VERSION,
        status=Enrichment.Status.OK,
        topic_hits=[{"topic": "distillation", "score": 55, "reason": "distils a policy"}],
    )

    # when staff open the topic
    response = admin_client.get(reverse("admin:digests_topic_change", args=[topic.pk]))

    # then the preview lists the day's two matches, best first, with their scores and reasons
    preview = response.context["topic_preview"]
    assert (preview.day, preview.considered) == (DAY, 2)
    assert [(m.shown.arxiv_id, m.lexical_score, m.llm_score) for m in preview.matches] == [
        ("2606.18831", 62, None),
        ("2606.17199", None, 55),
    ]
    assert preview.matches[0].lexical_reason == "on-policy distillation"
    assert (preview.followers, preview.active_followers) == (3, 2)
    assert "Trust-region on-policy distillation" in response.text
    assert "distils a policy" in response.text
    assert "Followed by <strong>2</strong> active subscribers" in response.text


@pytest.mark.django_db
def test_new_keywords_recompute_the_days_lexical_hits_at_once(
    admin_client: Client, enrich_queue: list[str], django_capture_on_commit_callbacks
) -> None:
    # given a topic whose keyword matches nothing, and the day's papers read lexically
    announced()
    topic = make_topic(slug="distillation", names={"en": "Distillation"}, keywords=["nothing"])
    papers = [
        make_paper(title="Trust-region on-policy distillation"),
        make_paper(title="On-policy distillation at scale"),
        make_paper(title="A survey of robots"),
    ]
    lexical_enrich(papers)

    # when staff add the keyword that two papers use
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:digests_topic_change", args=[topic.pk]),
            topic_form(
                keywords_text="on-policy distillation",
                description_en="",
                name_zh="",
                categories_text="cs.CL",
            ),
            follow=True,
        )

    # then those two papers' lexical readings now hit the topic, staff are told, and no LLM
    # reading needed redoing
    hits = {
        e.paper_id: [h["topic"] for h in e.topic_hits]
        for e in Enrichment.objects.filter(prompt_version=LEXICAL_VERSION)
    }
    assert hits == {
        papers[0].pk: ["distillation"],
        papers[1].pk: ["distillation"],
        papers[2].pk: [],
    }
    messages = [str(m) for m in response.context["messages"]]
    assert "Papers of 2026-06-18: the lexical topic hits of 2 papers were recomputed." in messages
    assert enrich_queue == []


@pytest.mark.django_db
def test_a_new_description_discards_the_llm_readings_and_queues_the_enrichment(
    admin_client: Client, enrich_queue: list[str], django_capture_on_commit_callbacks
) -> None:
    # given the LLM's readings of three papers of the day, one of which it tied to the topic
    announced()
    topic = make_topic(slug="distillation", names={"en": "Distillation", "zh": "蒸馏"})
    tied, matching, unrelated = (
        make_paper(title="Policy learning"),
        make_paper(title="Knowledge distillation for speech"),
        make_paper(title="A survey of robots"),
    )
    for paper in (tied, matching, unrelated):
        for language in ("zh", "en"):
            make_enrichment(
                paper=paper,
                language=language,
                prompt_version=ENRICH_PROMPT_VERSION,
                status=Enrichment.Status.OK,
                topic_hits=[{"topic": "distillation", "score": 70, "reason": "…"}]
                if paper is tied
                else [],
            )

    # when staff rewrite the description (and the keywords the second paper uses)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            reverse("admin:digests_topic_change", args=[topic.pk]),
            topic_form(description_en="Compressing models.", description_zh="模型压缩"),
            follow=True,
        )

    # then the readings of the tied and the matching paper are gone, the other stays, the
    # day's enrichment is queued after the commit, and staff are told
    left = set(Enrichment.objects.values_list("paper_id", flat=True))
    assert left == {unrelated.pk}
    assert len(callbacks) == 1
    assert enrich_queue == ["day"]
    messages = [str(m) for m in response.context["messages"]]
    assert (
        "Papers of 2026-06-18: 2 papers will be read again by the LLM at the next enrichment "
        "(queued now)." in messages
    )


@pytest.mark.django_db
def test_a_change_outside_matching_makes_nothing_stale(
    admin_client: Client, enrich_queue: list[str], django_capture_on_commit_callbacks
) -> None:
    # given a topic with an LLM reading that hits it
    announced()
    topic = make_topic(
        slug="distillation",
        names={"en": "Distillation", "zh": "蒸馏"},
        descriptions={"en": "Teaching a small model from a large one."},
        keywords=["on-policy distillation", "knowledge distillation"],
        categories=["cs.CL", "cs.LG"],
        position=3,
    )
    make_enrichment(
        paper=make_paper(title="Knowledge distillation"),
        prompt_version=ENRICH_PROMPT_VERSION,
        status=Enrichment.Status.OK,
        topic_hits=[{"topic": "distillation", "score": 70, "reason": "…"}],
    )

    # when staff only feature it
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:digests_topic_change", args=[topic.pk]), topic_form(featured="on")
        )

    # then no reading is touched and nothing is queued
    assert Enrichment.objects.count() == 1
    assert enrich_queue == []
