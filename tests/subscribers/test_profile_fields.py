"""The profile's fields, written once in `subscribers.profile_fields`, and the lists made of it."""

from __future__ import annotations

from typing import Any

import pytest

from staff.admin.subscribers import InterestProfileAdmin, InterestProfileInline, SubscriberAdmin
from subscribers.forms import PROFILE_FIELDS, SUBSCRIBER_FIELDS, ProfileForm, SignupForm
from subscribers.importing import subscriber_to_json
from subscribers.mydata import subscriber_export
from subscribers.profile_fields import SETTINGS
from tests.factories import make_subscriber, make_topic

SETTING_NAMES = [setting.name for setting in SETTINGS]


def _fieldset_names(fieldsets: Any) -> list[str]:
    return [name for _title, options in fieldsets for name in options["fields"]]


def test_the_profile_editor_has_exactly_the_settings():
    assert set(ProfileForm.base_fields) == set(SETTING_NAMES)
    assert {*SUBSCRIBER_FIELDS, *PROFILE_FIELDS, "topics"} == set(SETTING_NAMES)
    assert set(SignupForm.base_fields) - {"email", "website"} < set(SETTING_NAMES)


def test_the_admin_shows_every_setting_once():
    profile_names = _fieldset_names(InterestProfileInline.fieldsets)
    assert sorted(profile_names) == sorted([*PROFILE_FIELDS, "topics", "updated_at"])
    assert _fieldset_names(InterestProfileAdmin.fieldsets) == ["subscriber", *profile_names]
    delivery = dict(SubscriberAdmin.fieldsets)["Delivery"]["fields"]
    assert list(delivery) == ["language", "timezone", "delivery_time", "frequency"]


@pytest.mark.django_db
def test_an_exported_line_keeps_the_documented_order():
    # given
    subscriber = make_subscriber(topics=[make_topic(slug="llm")])

    # when
    line = subscriber_to_json(subscriber)

    # then
    assert list(line) == [
        "email",
        "language",
        "timezone",
        "delivery_time",
        "frequency",
        "topics",
        "keywords",
        "exclude_keywords",
        "authors",
        "institutions",
        "categories",
        "interests",
        "seed_papers",
        "max_items",
        "min_relevance",
        "include_updates",
        "serendipity",
        "confirmed",
        "status",
    ]


@pytest.mark.django_db
def test_the_readers_data_export_holds_every_setting():
    # given
    subscriber = make_subscriber(keywords=["GRPO"], topics=[make_topic(slug="llm")])

    # when
    data = subscriber_export(subscriber=subscriber)

    # then
    assert [k for k in data["subscriber"] if k in SETTING_NAMES] == list(SUBSCRIBER_FIELDS)
    assert list(data["profile"]) == [
        *(name for name in SETTING_NAMES if name not in SUBSCRIBER_FIELDS),
        "dropped_categories",
        "updated_at",
    ]
    assert data["profile"]["keywords"] == ["GRPO"]
    assert data["profile"]["topics"] == ["llm"]
    assert data["subscriber"]["delivery_time"] == "08:00"
