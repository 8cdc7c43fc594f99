"""The admin: every page of every model opens, and list pages cost the same for 3 rows or 20."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from digests.models import (
    Delivery,
    Digest,
    DigestItem,
    Enrichment,
    Feedback,
    IngestDay,
    LLMUsage,
    Paper,
    Topic,
    TopicBrief,
)
from subscribers.models import InterestProfile, Subscriber
from tests.factories import (
    make_delivery,
    make_digest,
    make_digest_item,
    make_enrichment,
    make_feedback,
    make_llm_usage,
    make_paper,
    make_subscriber,
    make_topic,
)

DAY = dt.date(2026, 6, 18)
# Session, user, count, page, filter choices, date hierarchy…: what a list page needs whatever
# its length. A page whose cost grows with its rows blows through this at 20 rows.
MAX_LIST_QUERIES = 12
_serial = itertools.count()


def _day(n: int) -> dt.date:
    return DAY - dt.timedelta(days=n % 5)


def add_subscriber(n: int) -> Model:
    return make_subscriber(topics=[make_topic()], keywords=["distillation"])


def add_topic(n: int) -> Model:
    parent = make_topic(featured=True)
    make_subscriber(topics=[parent])
    return make_topic(parent=parent)


def add_paper(n: int) -> Model:
    categories = ["cs.CL", "cs.AI", "cs.LG"][n % 3 :]
    return make_paper(announce_date=_day(n), categories=categories, version=n % 2 + 1)


def add_enrichment(n: int) -> Model:
    return make_enrichment(model="gpt-4o-mini", tokens_in=1200, tokens_out=300)


def add_digest(n: int) -> Model:
    digest = make_digest(issue_date=_day(n))
    topic = make_topic()
    make_digest_item(digest=digest, relevance=90, topic=topic)
    make_digest_item(digest=digest, relevance=60)
    make_delivery(digest=digest, status=Delivery.Status.SENT, attempts=1)
    return digest


def add_digest_item(n: int) -> Model:
    return make_digest_item(topic=make_topic())


def add_delivery(n: int) -> Model:
    return make_delivery(status=Delivery.Status.DELIVERED, esp_message_id=f"esp-{n}", attempts=1)


def add_feedback(n: int) -> Model:
    return make_feedback()


def add_llm_usage(n: int) -> Model:
    return make_llm_usage(day=_day(n), model=f"model-{n}", calls=3, tokens_in=9000)


def add_ingest_day(n: int) -> Model:
    at = timezone.now()
    return IngestDay.objects.create(
        date=dt.date(2025, 1, 1) + dt.timedelta(days=next(_serial)),
        status="announced",
        listed=n,
        started_at=at,
        finished_at=at,
    )


def add_topic_brief(n: int) -> Model:
    return TopicBrief.objects.create(
        topic=make_topic(), date=_day(n), language="zh", prompt_version="brief-1", text="今日…"
    )


def add_profile(n: int) -> Model:
    return make_subscriber(topics=[make_topic(), make_topic()]).profile


ROW_MAKERS: dict[type[Model], Callable[[int], Model]] = {
    Subscriber: add_subscriber,
    InterestProfile: add_profile,
    Topic: add_topic,
    Paper: add_paper,
    Enrichment: add_enrichment,
    Digest: add_digest,
    DigestItem: add_digest_item,
    Delivery: add_delivery,
    Feedback: add_feedback,
    LLMUsage: add_llm_usage,
    IngestDay: add_ingest_day,
    TopicBrief: add_topic_brief,
}
MODELS = pytest.mark.parametrize("model", list(ROW_MAKERS), ids=lambda m: m.__name__)


def admin_url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def add_rows(model: type[Model], count: int) -> list[Model]:
    return [ROW_MAKERS[model](next(_serial)) for _ in range(count)]


@pytest.mark.django_db
@MODELS
def test_the_changelist_shows_every_row(admin_client: Client, model: type[Model]) -> None:
    # given a few rows
    add_rows(model, 3)

    # when staff open the list page
    response = admin_client.get(admin_url(model, "changelist"))

    # then it lists them all
    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count() >= 3


@pytest.mark.django_db
@MODELS
def test_the_add_page_opens(admin_client: Client, model: type[Model]) -> None:
    # given a few rows already there
    add_rows(model, 3)

    # when staff open the add page, then it renders
    assert admin_client.get(admin_url(model, "add")).status_code == 200


@pytest.mark.django_db
@MODELS
def test_the_change_page_opens(admin_client: Client, model: type[Model]) -> None:
    # given a row
    row = add_rows(model, 1)[0]

    # when staff open its change page, then it renders
    assert admin_client.get(admin_url(model, "change", row.pk)).status_code == 200


@pytest.mark.django_db
@MODELS
def test_the_changelist_costs_the_same_for_3_or_20_rows(
    admin_client: Client, django_assert_max_num_queries, model: type[Model]
) -> None:
    # given 3 rows
    add_rows(model, 3)
    url = admin_url(model, "changelist")

    # when the list page is opened with 3 rows, then with 20
    with django_assert_max_num_queries(MAX_LIST_QUERIES) as with_3:
        assert admin_client.get(url).status_code == 200
    add_rows(model, 17)
    with django_assert_max_num_queries(MAX_LIST_QUERIES) as with_20:
        response = admin_client.get(url)

    # then all 20 are shown for the same number of queries
    assert response.context["cl"].result_count == model.objects.count() >= 20
    assert len(with_20) == len(with_3)


@pytest.mark.django_db
def test_the_paper_list_shows_versioned_ids_and_finds_by_arxiv_id(admin_client: Client) -> None:
    # given two papers
    make_paper(arxiv_id="2606.18831", version=2, title="Trust-region on-policy distillation")
    make_paper(arxiv_id="2606.17199", title="Something else")

    # when staff search for one arXiv id
    response = admin_client.get(admin_url(Paper, "changelist"), {"q": "2606.18831"})

    # then only that paper is listed, with its version
    assert [paper.arxiv_id for paper in response.context["cl"].result_list] == ["2606.18831"]
    assert "2606.18831v2" in response.text
    assert "Trust-region on-policy distillation" in response.text


@pytest.mark.django_db
def test_the_topic_list_counts_children_and_finds_by_name(admin_client: Client) -> None:
    # given a parent topic with two children, and another topic
    parent = make_topic(slug="llm", names={"en": "Large language models", "zh": "语言大模型"})
    make_topic(slug="post-training", parent=parent)
    make_topic(slug="reasoning", parent=parent)
    make_topic(slug="robotics", names={"en": "Robotics"})

    # when staff search by the English name
    response = admin_client.get(admin_url(Topic, "changelist"), {"q": "language models"})

    # then the parent is found with its two children counted
    [topic] = response.context["cl"].result_list
    assert (topic.slug, topic.children_count) == ("llm", 2)


@pytest.mark.django_db
def test_featured_is_toggled_from_the_topic_list(admin_client: Client) -> None:
    # given two topics, neither featured
    first = make_topic(slug="alpha", position=1)
    second = make_topic(slug="beta", position=2)

    # when staff tick "featured" on the first one in the list and save
    response = admin_client.post(
        admin_url(Topic, "changelist"),
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-0-id": str(first.pk),
            "form-0-featured": "on",
            "form-0-position": "1",
            "form-1-id": str(second.pk),
            "form-1-position": "2",
            "_save": "Save",
        },
    )

    # then only the first one is featured
    assert response.status_code == 302
    assert list(Topic.objects.filter(featured=True).values_list("slug", flat=True)) == ["alpha"]


@pytest.mark.django_db
def test_a_subscriber_added_in_the_admin_gets_a_profile(admin_client: Client) -> None:
    # given the add page's form, with the profile inline left untouched
    form = {
        "email": "ada@example.org",
        "status": Subscriber.Status.ACTIVE,
        "language": "zh",
        "timezone": "Asia/Shanghai",
        "delivery_time": "08:00",
        "frequency": Subscriber.Frequency.DAILY,
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "0",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-keywords": "[]",
        "profile-0-exclude_keywords": "[]",
        "profile-0-authors": "[]",
        "profile-0-institutions": "[]",
        "profile-0-categories": "[]",
        "profile-0-seed_papers": "[]",
        "profile-0-max_items": "20",
        "profile-0-min_relevance": "30",
        "_save": "Save",
    }

    # when staff save it
    response = admin_client.post(admin_url(Subscriber, "add"), form)

    # then the subscriber exists with a default profile
    assert response.status_code == 302
    subscriber = Subscriber.objects.get(email="ada@example.org")
    assert (subscriber.profile.max_items, subscriber.profile.min_relevance) == (20, 30)


@pytest.mark.django_db
def test_the_admin_refuses_an_email_differing_only_in_case(admin_client: Client) -> None:
    # given a subscriber
    make_subscriber(email="ada@example.org")

    # when staff add the same address with capitals
    response = admin_client.post(
        admin_url(Subscriber, "add"),
        {
            "email": "Ada@Example.org",
            "status": Subscriber.Status.PENDING,
            "language": "en",
            "timezone": "UTC",
            "delivery_time": "08:00",
            "frequency": Subscriber.Frequency.DAILY,
            "profile-TOTAL_FORMS": "0",
            "profile-INITIAL_FORMS": "0",
            "_save": "Save",
        },
    )

    # then the form comes back with an error and nothing is written
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Subscriber.objects.count() == 1


@pytest.mark.django_db
def test_deliveries_stuck_in_sending_are_one_click_away(admin_client):
    stuck = make_delivery(
        status=Delivery.Status.SENDING, claimed_at=timezone.now() - dt.timedelta(hours=2)
    )
    make_delivery(status=Delivery.Status.SENDING, claimed_at=timezone.now())
    make_delivery(status=Delivery.Status.SENT)

    page = admin_client.get(reverse("admin:digests_delivery_changelist") + "?stuck=yes")

    assert page.status_code == 200
    assert list(page.context["cl"].queryset) == [stuck]
