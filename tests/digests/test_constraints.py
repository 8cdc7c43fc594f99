"""The database itself refuses rows that break the invariants, whatever Python code wrote them.

Every write goes around model validation (`create`, `bulk_create`, `update`), and every refusal is
checked against the constraint that must cause it, so that a test cannot pass on another one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, transaction

from digests.models import Delivery, Digest, DigestItem, Enrichment, Feedback, LLMUsage, Paper
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
)

DAY = dt.date(2026, 6, 18)


@contextmanager
def rejected_by(constraint: str, *, sqlite: str | None = None) -> Iterator[None]:
    """Expect the block's write to fail on `constraint`, and roll back only that write.

    PostgreSQL names the constraint in its error; SQLite names a CHECK constraint or an expression
    index, but only lists the columns of a plain UNIQUE one: pass those as `sqlite`.
    """
    expected = sqlite if sqlite and connection.vendor == "sqlite" else constraint
    with pytest.raises(IntegrityError, match=re.escape(expected)), transaction.atomic():
        yield


# Digest


@pytest.mark.django_db
def test_a_second_digest_for_the_same_subscriber_and_day_is_rejected() -> None:
    # given a subscriber's digest for a day
    digest = make_digest(issue_date=DAY)

    # when another one is written for the same day, then the database refuses it
    with rejected_by(
        "digest_one_per_subscriber_and_day",
        sqlite="digests_digest.subscriber_id, digests_digest.issue_date",
    ):
        Digest.objects.create(subscriber=digest.subscriber, issue_date=DAY)

    # then the next day, and another subscriber the same day, are fine
    Digest.objects.create(subscriber=digest.subscriber, issue_date=DAY + dt.timedelta(days=1))
    Digest.objects.create(subscriber=make_subscriber(), issue_date=DAY)
    assert Digest.objects.filter(subscriber=digest.subscriber).count() == 2


# Enrichment


@pytest.mark.django_db
def test_a_second_enrichment_of_the_same_version_language_and_prompt_is_rejected() -> None:
    # given a Chinese enrichment of version 1 under prompt v1
    paper = make_paper()
    make_enrichment(paper=paper, paper_version=1, language="zh", prompt_version="v1")

    # when the same one is bulk-written again, then the database refuses it
    with rejected_by(
        "enrichment_unique_per_version_language_prompt",
        sqlite=(
            "digests_enrichment.paper_id, digests_enrichment.paper_version, "
            "digests_enrichment.language, digests_enrichment.prompt_version"
        ),
    ):
        Enrichment.objects.bulk_create(
            [Enrichment(paper=paper, paper_version=1, language="zh", prompt_version="v1")]
        )
    assert Enrichment.objects.filter(paper=paper).count() == 1


@pytest.mark.django_db
def test_enrichments_of_another_language_prompt_or_version_are_allowed() -> None:
    # given a Chinese enrichment of version 1 under prompt v1
    paper = make_paper()
    make_enrichment(paper=paper, paper_version=1, language="zh", prompt_version="v1")

    # when the same paper is enriched in another language, prompt version and paper version
    make_enrichment(paper=paper, paper_version=1, language="fr", prompt_version="v1")
    make_enrichment(paper=paper, paper_version=1, language="zh", prompt_version="v2")
    make_enrichment(paper=paper, paper_version=2, language="zh", prompt_version="v1")

    # then every one is stored
    assert sorted(
        Enrichment.objects.filter(paper=paper).values_list(
            "paper_version", "language", "prompt_version"
        )
    ) == [(1, "fr", "v1"), (1, "zh", "v1"), (1, "zh", "v2"), (2, "zh", "v1")]


# Subscriber and profile


@pytest.mark.django_db
def test_an_email_differing_only_in_case_is_rejected() -> None:
    # given a subscriber
    Subscriber.objects.create(email="ada@example.org")

    # when the same address is written with other capitals, then the database refuses it
    with rejected_by("subscriber_email_unique_ci"):
        Subscriber.objects.create(email="Ada@Example.org")

    assert list(Subscriber.objects.values_list("email", flat=True)) == ["ada@example.org"]


@pytest.mark.django_db
def test_an_unknown_subscriber_status_is_rejected() -> None:
    # given a subscriber
    subscriber = make_subscriber()

    # when its status is set to a value outside the choices, then the database refuses it
    with rejected_by("subscriber_status_valid"):
        Subscriber.objects.filter(pk=subscriber.pk).update(status="deleted")

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


@pytest.mark.django_db
@pytest.mark.parametrize("max_items", [0, 201])
def test_max_items_outside_1_to_200_is_rejected(max_items: int) -> None:
    # given a profile
    subscriber = make_subscriber(max_items=20)

    # when its size goes out of range, then the database refuses it
    with rejected_by("profile_max_items_range"):
        InterestProfile.objects.filter(subscriber=subscriber).update(max_items=max_items)


@pytest.mark.django_db
def test_min_relevance_above_100_is_rejected() -> None:
    # given a profile
    subscriber = make_subscriber(min_relevance=30)

    # when its threshold goes above 100, then the database refuses it
    with rejected_by("profile_min_relevance_range"):
        InterestProfile.objects.filter(subscriber=subscriber).update(min_relevance=101)


@pytest.mark.django_db
def test_the_bounds_of_the_profile_ranges_are_allowed() -> None:
    # given two profiles
    low, high = make_subscriber(), make_subscriber()

    # when they are set to the bounds of both ranges
    InterestProfile.objects.filter(subscriber=low).update(max_items=1, min_relevance=0)
    InterestProfile.objects.filter(subscriber=high).update(max_items=200, min_relevance=100)

    # then both are stored
    assert sorted(InterestProfile.objects.values_list("max_items", "min_relevance")) == [
        (1, 0),
        (200, 100),
    ]


# Paper


@pytest.mark.django_db
def test_a_second_paper_with_the_same_arxiv_id_is_rejected() -> None:
    # given a paper
    make_paper(arxiv_id="2606.18831")

    # when the same arXiv id is written again, as another version, then the database refuses it
    with rejected_by("digests_paper_arxiv_id_key", sqlite="digests_paper.arxiv_id"):
        make_paper(arxiv_id="2606.18831", version=2)

    assert Paper.objects.get().version == 1


# Digest items


@pytest.mark.django_db
def test_two_items_with_the_same_rank_in_a_digest_are_rejected() -> None:
    # given a digest whose first item has rank 1
    item = make_digest_item(rank=1)

    # when another paper is bulk-written at rank 1, then the database refuses it
    with rejected_by(
        "digest_item_rank_unique", sqlite="digests_digestitem.digest_id, digests_digestitem.rank"
    ):
        DigestItem.objects.bulk_create(
            [DigestItem(digest=item.digest, paper=make_paper(), rank=1, relevance=70)]
        )

    # then rank 1 in another digest is fine
    make_digest_item(rank=1, paper=item.paper)
    assert DigestItem.objects.filter(rank=1).count() == 2


@pytest.mark.django_db
def test_the_same_paper_twice_in_a_digest_is_rejected() -> None:
    # given a digest with a paper at rank 1
    item = make_digest_item(rank=1)

    # when the same paper is written again at rank 2, then the database refuses it
    with rejected_by(
        "digest_item_paper_unique",
        sqlite="digests_digestitem.digest_id, digests_digestitem.paper_id",
    ):
        DigestItem.objects.create(digest=item.digest, paper=item.paper, rank=2, relevance=70)

    assert item.digest.items.count() == 1


@pytest.mark.django_db
def test_a_relevance_above_100_is_rejected() -> None:
    # given an item at 100 %
    item = make_digest_item(relevance=100)

    # when its relevance is raised to 101, then the database refuses it
    with rejected_by("digest_item_relevance_range"):
        DigestItem.objects.filter(pk=item.pk).update(relevance=101)

    item.refresh_from_db()
    assert item.relevance == 100


@pytest.mark.django_db
def test_rank_0_is_rejected() -> None:
    # given a digest
    digest = make_digest()

    # when an item is written at rank 0, then the database refuses it
    with rejected_by("digest_item_rank_positive"):
        DigestItem.objects.create(digest=digest, paper=make_paper(), rank=0, relevance=50)


# Feedback, usage and delivery


@pytest.mark.django_db
def test_a_second_feedback_on_the_same_paper_by_the_same_subscriber_is_rejected() -> None:
    # given a "more like this" on a paper
    feedback = make_feedback(signal=Feedback.Signal.MORE)

    # when the same reader sends "less like this" as a new row, then the database refuses it
    with rejected_by(
        "feedback_one_per_paper",
        sqlite="digests_feedback.subscriber_id, digests_feedback.paper_id",
    ):
        Feedback.objects.create(
            subscriber=feedback.subscriber, paper=feedback.paper, signal=Feedback.Signal.LESS
        )

    # then another reader's feedback on the same paper is fine
    make_feedback(paper=feedback.paper)
    assert Feedback.objects.filter(paper=feedback.paper).count() == 2


@pytest.mark.django_db
def test_a_second_usage_row_for_the_same_day_model_and_purpose_is_rejected() -> None:
    # given the day's enrichment usage of a model
    make_llm_usage(day=DAY, model="gpt-4o-mini", purpose=LLMUsage.Purpose.ENRICH)

    # when a second row is written for the same day, model and purpose, the database refuses it
    with rejected_by(
        "llm_usage_one_row_per_day_model_purpose",
        sqlite="digests_llmusage.day, digests_llmusage.model, digests_llmusage.purpose",
    ):
        LLMUsage.objects.create(day=DAY, model="gpt-4o-mini", purpose=LLMUsage.Purpose.ENRICH)

    # then another purpose, model or day each get their own row
    make_llm_usage(day=DAY, model="gpt-4o-mini", purpose=LLMUsage.Purpose.BRIEF)
    make_llm_usage(day=DAY, model="gpt-4o", purpose=LLMUsage.Purpose.ENRICH)
    make_llm_usage(day=DAY + dt.timedelta(days=1), model="gpt-4o-mini")
    assert LLMUsage.objects.count() == 4


@pytest.mark.django_db
def test_a_second_delivery_of_a_digest_is_rejected() -> None:
    # given a sent digest
    delivery = make_delivery(status=Delivery.Status.SENT)

    # when a second delivery is written for it, then the database refuses it
    with rejected_by("digests_delivery_digest_id_key", sqlite="digests_delivery.digest_id"):
        Delivery.objects.create(digest=delivery.digest, status=Delivery.Status.SENT)

    assert Delivery.objects.count() == 1


@pytest.mark.django_db
def test_an_unknown_delivery_status_is_rejected() -> None:
    # given a sent delivery
    delivery = make_delivery(status=Delivery.Status.SENT)

    # when its status is set outside the choices, then the database refuses it
    with rejected_by("delivery_status_valid"):
        Delivery.objects.filter(pk=delivery.pk).update(status="lost")


@pytest.mark.django_db
@pytest.mark.parametrize("status", [s.value for s in Delivery.Status])
def test_every_delivery_status_is_allowed(status: str) -> None:
    # given a digest
    digest = make_digest()

    # when its delivery is written in each state of the sending state machine
    Delivery.objects.create(digest=digest, status=status)

    # then it is stored
    assert Delivery.objects.get().status == status
