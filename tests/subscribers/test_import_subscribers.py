"""import_subscribers / export_subscribers: the JSON-lines format, its validation, the commands."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from subscribers.forms import ProfileForm
from subscribers.importing import (
    ImportReport,
    LineError,
    subscriber_from_json,
    subscriber_to_json,
    subscribers_export,
    subscribers_import,
)
from subscribers.models import InterestProfile, Subscriber
from tests.factories import make_subscriber, make_topic

FULL_LINE: dict[str, Any] = {
    "email": "ada@example.org",
    "language": "zh",
    "timezone": "Asia/Shanghai",
    "delivery_time": "07:30",
    "frequency": "daily",
    "topics": ["llm", "post-training"],
    "keywords": ["on-policy distillation"],
    "exclude_keywords": ["survey"],
    "authors": ["Yongjin Yang"],
    "institutions": ["Tsinghua University"],
    "categories": ["cs.CL", "hep-th"],
    "interests": "free text",
    "seed_papers": ["2606.17199", "2606.1719v2", "hep-th/0601001", "math.AG/0601001v3"],
    "max_items": 25,
    "min_relevance": 55,
    "include_updates": True,
    "serendipity": False,
    "confirmed": True,
}


def _lines(*objects: dict[str, Any] | str) -> list[str]:
    return [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) + "\n" for o in objects]


def _catalogue() -> None:
    make_topic(slug="llm", position=1)
    make_topic(slug="post-training", position=2)


@pytest.mark.django_db
def test_a_good_file_creates_subscribers_with_profiles_and_topics():
    # given
    _catalogue()
    before = timezone.now()

    # when
    report = subscribers_import(lines=_lines(FULL_LINE, {"email": "bob@example.org"}))

    # then
    assert report == ImportReport(created=2, updated=0, errors=[])
    ada = Subscriber.objects.get(email="ada@example.org")
    assert (ada.language, ada.timezone, ada.delivery_time) == (
        "zh",
        "Asia/Shanghai",
        dt.time(7, 30),
    )
    assert ada.status == Subscriber.Status.ACTIVE
    assert before <= ada.confirmed_at <= timezone.now()
    assert sorted(ada.profile.topics.values_list("slug", flat=True)) == ["llm", "post-training"]
    assert ada.profile.keywords == ["on-policy distillation"]
    assert ada.profile.exclude_keywords == ["survey"]
    assert ada.profile.authors == ["Yongjin Yang"]
    assert ada.profile.institutions == ["Tsinghua University"]
    assert ada.profile.categories == ["cs.CL", "hep-th"]
    assert ada.profile.interests == "free text"
    assert ada.profile.seed_papers == FULL_LINE["seed_papers"]
    assert (ada.profile.max_items, ada.profile.min_relevance) == (25, 55)
    bob = Subscriber.objects.get(email="bob@example.org")
    assert (bob.status, bob.confirmed_at, bob.language, bob.timezone) == (
        "pending",
        None,
        "en",
        "UTC",
    )
    assert bob.profile.max_items == 20
    assert list(bob.profile.topics.all()) == []


@pytest.mark.django_db
def test_bad_lines_are_reported_with_their_number_and_reason_and_good_lines_are_kept():
    # given
    _catalogue()
    lines = _lines(
        {"email": "good1@example.org", "topics": ["llm"]},
        {"email": "not-an-address"},
        {"email": "c@example.org", "topics": ["llm", "quantum-cooking", "astro-vibes"]},
        "\n",
        {"email": "d@example.org", "timezone": "Mars/Olympus_Mons"},
        '{"email": "e@example.org", \n',
        {"email": "f@example.org", "colour": "blue", "age": 3},
        {"email": "good2@example.org"},
    )

    # when
    report = subscribers_import(lines=lines)

    # then
    assert report.errors == [
        (2, "bad e-mail address 'not-an-address'"),
        (3, "unknown topics: quantum-cooking, astro-vibes"),
        (5, "bad time zone 'Mars/Olympus_Mons' (expected an IANA name like Asia/Shanghai)"),
        (6, "invalid JSON: Expecting property name enclosed in double quotes (column 29)"),
        (7, "unknown fields: age, colour"),
    ]
    assert (report.created, report.updated) == (2, 0)
    assert list(Subscriber.objects.values_list("email", flat=True)) == [
        "good1@example.org",
        "good2@example.org",
    ]
    assert InterestProfile.objects.count() == 2


@pytest.mark.django_db
def test_an_unknown_category_is_refused_with_its_line_number_and_the_other_lines_import():
    # given
    lines = _lines(
        {"email": "a@example.org", "categories": ["cs.CL"]},
        {"email": "b@example.org", "categories": ["cs.CL", "cs.FOO"]},
        {"email": "c@example.org", "categories": ["hep-th"]},
    )

    # when
    report = subscribers_import(lines=lines)

    # then
    assert report == ImportReport(
        created=2, updated=0, errors=[(2, "unknown arXiv categories: cs.FOO")]
    )
    assert list(Subscriber.objects.values_list("email", "profile__categories")) == [
        ("a@example.org", ["cs.CL"]),
        ("c@example.org", ["hep-th"]),
    ]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"email": None}, "missing e-mail address"),
        ({"email": "ada@@example.org"}, "bad e-mail address 'ada@@example.org'"),
        ({"delivery_time": "8:00"}, "bad delivery_time '8:00' (expected HH:MM)"),
        ({"delivery_time": "24:00"}, "bad delivery_time '24:00' (expected HH:MM)"),
        ({"frequency": "hourly"}, "bad frequency 'hourly' (expected daily or weekly)"),
        ({"serendipity": "yes"}, "serendipity must be true or false"),
        ({"max_items": 0}, "max_items must be a whole number from 1 to 200, got 0"),
        ({"max_items": 201}, "max_items must be a whole number from 1 to 200, got 201"),
        ({"max_items": True}, "max_items must be a whole number from 1 to 200, got True"),
        ({"max_items": 20.5}, "max_items must be a whole number from 1 to 200, got 20.5"),
        ({"min_relevance": -1}, "min_relevance must be a whole number from 0 to 100, got -1"),
        ({"min_relevance": 101}, "min_relevance must be a whole number from 0 to 100, got 101"),
        ({"keywords": "llm"}, "keywords must be a list of strings"),
        ({"authors": ["Ada", 7]}, "authors must be a list of strings"),
        ({"institutions": ["  "]}, "institutions must not contain empty strings"),
        ({"categories": ["CS.CL"]}, "unknown arXiv categories: CS.CL"),
        ({"categories": ["cs.CL", "cs.FOO"]}, "unknown arXiv categories: cs.FOO"),
        (
            {"seed_papers": ["2606.17199", "arxiv:1234"]},
            "seed_papers are neither arXiv ids nor bioRxiv/medRxiv DOIs: arxiv:1234",
        ),
        (
            {"seed_papers": ["hep-th/06010"]},
            "seed_papers are neither arXiv ids nor bioRxiv/medRxiv DOIs: hep-th/06010",
        ),
        ({"interests": ["a"]}, "interests must be a string"),
        ({"language": "Chinese"}, "bad language 'Chinese' (expected en or zh)"),
        ({"language": "fr"}, "bad language 'fr' (expected en or zh)"),
        (
            {"timezone": "Mars/Olympus_Mons"},
            "bad time zone 'Mars/Olympus_Mons' (expected an IANA name like Asia/Shanghai)",
        ),
        ({"keywords": [f"kw{i}" for i in range(101)]}, "keywords has 101 entries (at most 100)"),
        (
            {"authors": ["Ada", "A" * 201]},
            "authors entries must be at most 200 characters: '" + "A" * 40 + "…'",
        ),
        ({"interests": "x" * 4001}, "interests must be at most 4000 characters, got 4001"),
        ({"timezone": ""}, "bad time zone '' (expected an IANA name like Asia/Shanghai)"),
        (
            {"status": "banned"},
            "bad status 'banned' (expected pending, active, unsubscribed, suppressed)",
        ),
        ({"confirmed": "yes"}, "confirmed must be true or false"),
        (
            {"email": "x", "max_items": 0},
            "bad e-mail address 'x'; max_items must be a whole number from 1 to 200, got 0",
        ),
    ],
)
def test_subscriber_from_json_names_what_is_wrong(changes, reason):
    # given
    obj = {**FULL_LINE, "topics": [], **changes}
    obj = {key: value for key, value in obj.items() if value is not None}

    # when
    with pytest.raises(LineError) as caught:
        subscriber_from_json(obj, known_topics=set())

    # then
    assert caught.value.reason == reason


def test_subscriber_from_json_refuses_what_is_not_an_object():
    with pytest.raises(LineError) as caught:
        subscriber_from_json(["ada@example.org"], known_topics=set())

    assert caught.value.reason == "not a JSON object"


def test_subscriber_from_json_keeps_only_the_fields_given():
    # when
    record = subscriber_from_json(
        {"email": " ada@example.org ", "language": "ZH", "max_items": 5}, known_topics=set()
    )

    # then
    assert record.email == "ada@example.org"
    assert record.subscriber == {"language": "zh"}
    assert record.profile == {"max_items": 5}
    assert (record.topics, record.status, record.confirmed) == (None, None, None)


@pytest.mark.django_db
def test_a_line_that_is_not_utf8_is_rejected_alone():
    # given
    lines = [b'{"email": "a@example.org"}\n', b'{"email": "\xff@example.org"}\n']

    # when
    report = subscribers_import(lines=lines)

    # then
    assert report == ImportReport(created=1, updated=0, errors=[(2, "not valid UTF-8 (byte 12)")])


@pytest.mark.django_db
def test_reimport_is_idempotent_and_case_insensitive_on_email():
    # given
    _catalogue()
    subscribers_import(lines=_lines(FULL_LINE))
    shouting = {**FULL_LINE, "email": "ADA@Example.ORG"}

    # when
    first = subscribers_import(lines=_lines(FULL_LINE))
    second = subscribers_import(lines=_lines(shouting, shouting))

    # then
    assert first == ImportReport(created=0, updated=1, errors=[])
    assert second == ImportReport(created=0, updated=2, errors=[])
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["ada@example.org"]
    assert InterestProfile.objects.count() == 1
    assert [subscriber_to_json(s) for s in Subscriber.objects.all()] == [
        {**FULL_LINE, "status": "active"}
    ]


@pytest.mark.django_db
def test_reimport_leaves_the_fields_a_line_omits_as_they_are():
    # given
    _catalogue()
    subscribers_import(lines=_lines(FULL_LINE))

    # when
    report = subscribers_import(lines=_lines({"email": "ada@example.org", "topics": ["llm"]}))

    # then
    assert report == ImportReport(created=0, updated=1, errors=[])
    exported = next(subscribers_export())
    assert exported == {**FULL_LINE, "topics": ["llm"], "status": "active"}


@pytest.mark.django_db
def test_confirmed_false_makes_a_subscriber_pending_again():
    # given
    subscribers_import(lines=_lines({"email": "ada@example.org", "confirmed": True}))

    # when
    subscribers_import(lines=_lines({"email": "ada@example.org", "confirmed": False}))

    # then
    ada = Subscriber.objects.get()
    assert (ada.status, ada.confirmed_at) == ("pending", None)


@pytest.mark.django_db
def test_status_wins_over_confirmed():
    # when
    subscribers_import(
        lines=_lines(
            {"email": "a@example.org", "confirmed": True, "status": "unsubscribed"},
            {"email": "b@example.org", "confirmed": False, "status": "suppressed"},
            {"email": "c@example.org", "confirmed": False, "status": "active"},
        )
    )

    # then
    a, b, c = Subscriber.objects.order_by("email")
    assert (a.status, a.confirmed_at is not None, a.unsubscribed_at is not None) == (
        "unsubscribed",
        True,
        True,
    )
    assert (b.status, b.confirmed_at, b.unsubscribed_at) == ("suppressed", None, None)
    assert (c.status, c.confirmed_at is not None) == ("active", True)
    assert [(o["confirmed"], o["status"]) for o in subscribers_export()] == [
        (True, "unsubscribed"),
        (False, "suppressed"),
        (True, "active"),
    ]


@pytest.mark.django_db
def test_confirmed_alone_never_revives_an_unsubscribed_or_suppressed_address():
    # given
    make_subscriber(email="gone@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    make_subscriber(email="bounced@example.org", status=Subscriber.Status.SUPPRESSED)

    # when
    report = subscribers_import(
        lines=_lines(
            {"email": "gone@example.org", "confirmed": True},
            {"email": "bounced@example.org", "confirmed": True},
        )
    )

    # then
    assert report == ImportReport(created=0, updated=2, errors=[])
    assert list(Subscriber.objects.values_list("email", "status")) == [
        ("bounced@example.org", "suppressed"),
        ("gone@example.org", "unsubscribed"),
    ]


@pytest.mark.django_db
def test_export_then_import_round_trips_exactly():
    # given
    llm = make_topic(slug="llm", position=1)
    rl = make_topic(slug="rl", position=2)
    make_subscriber(
        email="zed@example.org",
        language="zh",
        timezone="Europe/Paris",
        delivery_time=dt.time(6, 45),
        frequency="weekly",
        topics=[rl, llm],
        keywords=["GRPO"],
        seed_papers=["hep-th/0601001v2"],
        interests="多模态",
        max_items=200,
        min_relevance=0,
        confirmed_at=timezone.now(),
    )
    make_subscriber(email="amy@example.org", status=Subscriber.Status.PENDING)
    make_subscriber(
        email="bo@example.org",
        status=Subscriber.Status.UNSUBSCRIBED,
        confirmed_at=timezone.now(),
    )
    exported = list(subscribers_export())

    # when
    Subscriber.objects.all().delete()
    report = subscribers_import(lines=_lines(*exported))

    # then
    assert report == ImportReport(created=3, updated=0, errors=[])
    assert list(subscribers_export()) == exported
    assert [o["email"] for o in exported] == [
        "amy@example.org",
        "bo@example.org",
        "zed@example.org",
    ]
    assert exported[2] == {
        "email": "zed@example.org",
        "language": "zh",
        "timezone": "Europe/Paris",
        "delivery_time": "06:45",
        "frequency": "weekly",
        "topics": ["llm", "rl"],
        "keywords": ["GRPO"],
        "exclude_keywords": [],
        "authors": [],
        "institutions": [],
        "categories": [],
        "interests": "多模态",
        "seed_papers": ["hep-th/0601001v2"],
        "max_items": 200,
        "min_relevance": 0,
        "include_updates": False,
        "serendipity": False,
        "confirmed": True,
        "status": "active",
    }
    assert [(o["confirmed"], o["status"]) for o in exported[:2]] == [
        (False, "pending"),
        (True, "unsubscribed"),
    ]


@pytest.mark.django_db
def test_export_runs_a_fixed_number_of_queries(django_assert_num_queries):
    # given
    topics = [make_topic(), make_topic()]
    for _ in range(5):
        make_subscriber(topics=topics)
    Subscriber.objects.create(email="no-profile@example.org")

    # when
    with django_assert_num_queries(2):
        exported = list(subscribers_export())

    # then
    assert len(exported) == 6
    assert exported[0]["email"] == "no-profile@example.org"
    assert exported[0]["topics"] == []


@pytest.mark.django_db
def test_import_command_prints_a_summary(tmp_path: Path):
    # given
    _catalogue()
    source = tmp_path / "subscribers.jsonl"
    source.write_text("".join(_lines(FULL_LINE, {"email": "bob@example.org"})), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()

    # when
    call_command("import_subscribers", str(source), stdout=out, stderr=err)

    # then
    assert out.getvalue() == "imported 2 subscribers (2 created, 0 updated), 0 lines rejected\n"
    assert err.getvalue() == ""
    assert Subscriber.objects.count() == 2


@pytest.mark.django_db
def test_import_command_fails_when_lines_were_rejected_but_keeps_the_good_ones(tmp_path: Path):
    # given
    _catalogue()
    make_subscriber(email="bob@example.org")
    source = tmp_path / "subscribers.jsonl"
    source.write_text(
        "".join(
            _lines(
                {"email": "bob@example.org", "topics": ["llm"]},
                {"email": "bad address"},
                "not json\n",
                {"email": "new@example.org"},
            )
        ),
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()

    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_subscribers", str(source), stdout=out, stderr=err)

    # then
    assert str(caught.value) == "2 lines rejected (the other lines were imported)"
    assert err.getvalue() == (
        "line 2: bad e-mail address 'bad address'\n"
        "line 3: invalid JSON: Expecting value (column 1)\n"
    )
    assert out.getvalue() == "imported 2 subscribers (1 created, 1 updated), 2 lines rejected\n"
    assert list(Subscriber.objects.values_list("email", flat=True)) == [
        "bob@example.org",
        "new@example.org",
    ]
    bob = Subscriber.objects.get(email="bob@example.org")
    assert list(bob.profile.topics.values_list("slug", flat=True)) == ["llm"]


@pytest.mark.django_db
def test_import_command_reads_standard_input_for_a_dash():
    # given
    out = io.StringIO()

    # when
    call_command(
        "import_subscribers",
        "-",
        stdin=io.StringIO("".join(_lines({"email": "ada@example.org"}))),
        stdout=out,
        stderr=io.StringIO(),
    )

    # then
    assert out.getvalue() == "imported 1 subscribers (1 created, 0 updated), 0 lines rejected\n"
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["ada@example.org"]


def test_import_command_names_a_missing_file(tmp_path: Path):
    # given
    missing = tmp_path / "nope.jsonl"

    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_subscribers", str(missing), stdout=io.StringIO())

    # then
    assert str(caught.value) == f"no such file: {missing}"


@pytest.mark.django_db
def test_export_command_prints_one_json_object_a_line(tmp_path: Path):
    # given
    llm = make_topic(slug="llm")
    make_subscriber(email="b@example.org", interests="大语言模型")
    make_subscriber(email="a@example.org", topics=[llm])
    out, err = io.StringIO(), io.StringIO()

    # when
    call_command("export_subscribers", stdout=out, stderr=err)

    # then
    lines = out.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == list(subscribers_export())
    assert [json.loads(line)["email"] for line in lines] == ["a@example.org", "b@example.org"]
    assert json.loads(lines[0])["topics"] == ["llm"]
    assert "大语言模型" in lines[1]
    assert err.getvalue() == "exported 2 subscribers\n"

    # and the output imports back unchanged
    source = tmp_path / "export.jsonl"
    source.write_text(out.getvalue(), encoding="utf-8")
    call_command("import_subscribers", str(source), stdout=io.StringIO(), stderr=io.StringIO())
    assert list(subscribers_export()) == [json.loads(line) for line in lines]


# One value per rule of the profile editor, as a line gives it; the form gets the same value as
# the editor's page posts it (lists one per line, switches "on").
FORM_BASE: dict[str, Any] = {
    "language": "en",
    "timezone": "UTC",
    "delivery_time": "08:00",
    "frequency": "daily",
    "max_items": "20",
    "min_relevance": "30",
}
AGREEMENT_CASES = [
    ("categories", ["cs.CL", "hep-th"], True),
    ("categories", ["cs.FOO"], False),
    ("categories", ["CS.CL"], False),
    ("keywords", [f"kw{i}" for i in range(100)], True),
    ("keywords", [f"kw{i}" for i in range(101)], False),
    ("exclude_keywords", [f"kw{i}" for i in range(101)], False),
    ("institutions", [f"in{i}" for i in range(101)], False),
    ("authors", ["A" * 200], True),
    ("authors", ["A" * 201], False),
    ("seed_papers", ["2606.17199", "hep-th/0601001"], True),
    ("seed_papers", ["hep-th/06010"], False),
    ("seed_papers", ["A" * 201], False),
    ("interests", "x" * 4000, True),
    ("interests", "x" * 4001, False),
    ("max_items", 1, True),
    ("max_items", 200, True),
    ("max_items", 0, False),
    ("max_items", 201, False),
    ("min_relevance", 0, True),
    ("min_relevance", 100, True),
    ("min_relevance", -1, False),
    ("min_relevance", 101, False),
    ("language", "zh", True),
    ("language", "fr", False),
    ("language", "zh-hans", False),
    ("timezone", "Asia/Shanghai", True),
    ("timezone", "Mars/Olympus_Mons", False),
    ("delivery_time", "23:59", True),
    ("delivery_time", "24:00", False),
    ("frequency", "weekly", True),
    ("frequency", "hourly", False),
    ("include_updates", True, True),
    ("serendipity", False, True),
    ("topics", ["llm"], True),
    ("topics", ["quantum-cooking"], False),
]


def _as_posted(value: Any) -> Any:
    if isinstance(value, list):
        return "\n".join(value)
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "value", "valid"), AGREEMENT_CASES)
def test_the_import_and_the_profile_editor_agree_on_every_rule(name, value, valid):
    # given
    topic = make_topic(slug="llm", featured=True)
    posted = {**FORM_BASE, name: _as_posted(value)}
    if name == "topics":
        posted["topics"] = [topic.pk] if value == ["llm"] else ["999999"]

    # when
    form = ProfileForm(data=posted)
    try:
        subscriber_from_json({"email": "ada@example.org", name: value})
    except LineError:
        imported = False
    else:
        imported = True

    # then
    assert (form.is_valid(), imported) == (valid, valid), form.errors


def test_the_import_knows_every_field_of_the_profile_editor():
    # given a line with every field the editor has
    every = {name: FULL_LINE[name] for name in ProfileForm.base_fields}

    # when
    record = subscriber_from_json(
        {"email": "ada@example.org", **every}, known_topics=set(FULL_LINE["topics"])
    )

    # then
    assert set(record.subscriber) | set(record.profile) | {"topics"} == set(ProfileForm.base_fields)
