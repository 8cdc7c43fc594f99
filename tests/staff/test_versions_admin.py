"""Staff see papers' versions, what changed, the digests' updated papers and held sign-ups,
read-only, for the same queries whatever the number of rows; and the ESP's clicks among the
readers' feedback."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from django.db.models import Model
from django.test import Client

from digests.models import DigestUpdate, Feedback, PaperVersion, VersionChange
from subscribers.models import HeldSignup, Subscriber
from tests.factories import (
    make_digest,
    make_digest_update,
    make_feedback,
    make_paper,
    make_subscriber,
)
from tests.staff.test_admin import MAX_LIST_QUERIES, admin_url

_serial = itertools.count()


def add_paper_version(n: int) -> Model:
    return PaperVersion.objects.create(
        paper=make_paper(version=2),
        version=1,
        announce_date=dt.date(2026, 6, 17),
        announce_type="new",
        title=f"Version one, row {n}",
    )


def add_version_change(n: int) -> Model:
    return VersionChange.objects.create(
        paper=make_paper(version=2),
        old_version=1,
        new_version=2,
        language="zh",
        prompt_version="change-1",
        sentence=f"第二版加入了实验 {n}",
        model="gpt-4o-mini",
        tokens_in=400,
        tokens_out=30,
    )


def add_digest_update(n: int) -> DigestUpdate:
    return make_digest_update(digest=make_digest(issue_date=dt.date(2026, 6, 18)))


def add_held_signup(n: int) -> HeldSignup:
    return HeldSignup.objects.create(
        subscriber=make_subscriber(status=Subscriber.Status.UNSUBSCRIBED),
        subscriber_fields={"language": "zh"},
        profile_fields={"keywords": ["distillation"]},
        topic_ids=[1, 2],
    )


ROW_MAKERS: dict[type[Model], Callable[[int], Model]] = {
    PaperVersion: add_paper_version,
    VersionChange: add_version_change,
    DigestUpdate: add_digest_update,
    HeldSignup: add_held_signup,
}
MODELS = pytest.mark.parametrize("model", list(ROW_MAKERS), ids=lambda m: m.__name__)


def _rows(model: type[Model], count: int) -> list[Model]:
    return [ROW_MAKERS[model](next(_serial)) for _ in range(count)]


@pytest.mark.django_db
@MODELS
def test_the_list_costs_the_same_for_3_or_20_rows(
    admin_client: Client, django_assert_max_num_queries, model: type[Model]
) -> None:
    # given 3 rows
    _rows(model, 3)
    url = admin_url(model, "changelist")

    # when the list page is opened with 3 rows, then with 20
    with django_assert_max_num_queries(MAX_LIST_QUERIES) as with_3:
        assert admin_client.get(url).status_code == 200
    _rows(model, 17)
    with django_assert_max_num_queries(MAX_LIST_QUERIES) as with_20:
        response = admin_client.get(url)

    # then all 20 are listed for the same number of queries
    assert response.context["cl"].result_count == 20
    assert len(with_20) == len(with_3)


@pytest.mark.django_db
@MODELS
def test_a_row_is_shown_but_cannot_be_added_or_edited(
    admin_client: Client, model: type[Model]
) -> None:
    row = _rows(model, 1)[0]
    before = model._default_manager.values().get(pk=row.pk)

    page = admin_client.get(admin_url(model, "change", row.pk))
    posted = admin_client.post(admin_url(model, "change", row.pk), {})

    assert page.status_code == 200
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert posted.status_code == 403
    assert model._default_manager.values().get(pk=row.pk) == before


@pytest.mark.django_db
def test_the_lists_say_what_each_row_is(admin_client: Client) -> None:
    update = add_digest_update(0)
    held = add_held_signup(0)
    add_version_change(0)

    updates = admin_client.get(admin_url(DigestUpdate, "changelist")).content.decode()
    helds = admin_client.get(admin_url(HeldSignup, "changelist")).content.decode()
    changes = admin_client.get(admin_url(VersionChange, "changelist")).content.decode()

    assert update.digest.subscriber.email in updates and update.paper.arxiv_id in updates
    assert "June 17, 2026" in updates  # the day the reader got the version before
    assert held.subscriber.email in helds and "keywords, language" in helds
    assert "v1 → v2" in changes and "第二版加入了实验 0" in changes


@pytest.mark.django_db
def test_staff_find_a_readers_updates_and_held_sign_ups_by_address(admin_client: Client) -> None:
    ada = make_subscriber(email="ada@example.org", status=Subscriber.Status.PENDING)
    make_digest_update(digest=make_digest(subscriber=ada))
    HeldSignup.objects.create(subscriber=ada, subscriber_fields={"language": "en"})
    add_digest_update(1)
    add_held_signup(1)

    for model in (DigestUpdate, HeldSignup):
        response = admin_client.get(admin_url(model, "changelist"), {"q": "ada@example"})
        assert response.context["cl"].result_count == 1


@pytest.mark.django_db
def test_staff_see_and_filter_the_clicks_the_esp_reported_among_feedback(
    admin_client: Client,
) -> None:
    # given a reader's "more", and a click on a paper of their digest reported by the ESP
    reader = make_subscriber(email="ada@example.org")
    make_feedback(subscriber=reader, paper=make_paper(arxiv_id="2606.10001"), signal="more")
    make_feedback(subscriber=reader, paper=make_paper(arxiv_id="2606.10002"), signal="click")
    url = admin_url(Feedback, "changelist")

    # when staff open the feedback list, then filter it by signal
    listed = admin_client.get(url).content.decode()
    clicks = admin_client.get(url, {"signal__exact": "click"})

    # then the click is named as one, and the filter keeps only it
    assert "clicked in the e-mail" in listed and "more like this" in listed
    assert [row.paper.arxiv_id for row in clicks.context["cl"].result_list] == ["2606.10002"]
