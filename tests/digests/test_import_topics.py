"""import_topics / export_topics: the catalogue as JSON, validated whole, upserted by slug."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from digests.catalogue.topics import (
    CatalogueError,
    TopicImportReport,
    topics_export,
    topics_import,
)
from digests.models import Topic
from tests.factories import make_topic

DEFAULT_CATALOGUE = Path(__file__).resolve().parents[2] / "digests/catalogue/default_topics.json"


def _entry(slug: str, **fields: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "names": {"en": slug.upper(), "zh": f"{slug}专题"},
        "descriptions": {"en": f"About {slug}."},
        "categories": ["cs.CL"],
        "parent": None,
        "featured": False,
        "keywords": [slug],
        **fields,
    }


def _slugs_and_parents() -> list[tuple[str, str | None, int]]:
    return list(Topic.objects.values_list("slug", "parent__slug", "position"))


@pytest.mark.django_db
def test_import_creates_topics_in_file_order_with_parents_before_children():
    # given
    data = [
        _entry("llm", featured=True),
        _entry("post-training", parent="llm", categories=["cs.CL", "cs.LG"]),
        _entry("quantum", categories=["quant-ph"]),
        _entry("qec", parent="quantum", categories=["quant-ph", "math.QA"]),
    ]

    # when
    report = topics_import(data=data)

    # then
    assert report == TopicImportReport(created=4, updated=0, errors=[])
    assert _slugs_and_parents() == [
        ("llm", None, 1),
        ("post-training", "llm", 2),
        ("quantum", None, 3),
        ("qec", "quantum", 4),
    ]
    llm = Topic.objects.get(slug="llm")
    assert (llm.names, llm.descriptions, llm.featured, llm.keywords) == (
        {"en": "LLM", "zh": "llm专题"},
        {"en": "About llm."},
        True,
        ["llm"],
    )


@pytest.mark.django_db
def test_optional_fields_take_their_defaults():
    # when
    report = topics_import(data=[{"slug": "llm", "names": {"en": "LLM"}}])

    # then
    assert report == TopicImportReport(created=1, updated=0, errors=[])
    assert topics_export() == [
        {
            "slug": "llm",
            "names": {"en": "LLM"},
            "descriptions": {},
            "categories": [],
            "parent": None,
            "featured": False,
            "keywords": [],
        }
    ]


@pytest.mark.django_db
def test_unknown_parent_is_reported_and_the_other_entries_are_kept():
    # given
    data = [
        _entry("llm"),
        _entry("post-training", parent="large-models"),
        _entry("rag", parent="llm"),
    ]

    # when
    report = topics_import(data=data)

    # then
    assert report.errors == [
        (
            2,
            "post-training",
            "unknown parent 'large-models' (a parent must exist or come earlier in the file)",
        )
    ]
    assert (report.created, report.updated) == (2, 0)
    assert _slugs_and_parents() == [("llm", None, 1), ("rag", "llm", 3)]


@pytest.mark.django_db
def test_a_child_before_its_parent_is_rejected():
    # when
    report = topics_import(data=[_entry("rag", parent="llm"), _entry("llm")])

    # then
    assert report.errors == [
        (1, "rag", "unknown parent 'llm' (a parent must exist or come earlier in the file)")
    ]
    assert _slugs_and_parents() == [("llm", None, 2)]


@pytest.mark.django_db
def test_a_child_of_a_rejected_entry_says_so():
    # when
    report = topics_import(data=[_entry("llm", featured="yes"), _entry("rag", parent="llm")])

    # then
    assert report.errors == [
        (1, "llm", "featured must be true or false"),
        (2, "rag", "parent 'llm' was rejected"),
    ]
    assert Topic.objects.count() == 0


@pytest.mark.django_db
def test_a_parent_already_in_the_database_is_accepted():
    # given
    make_topic(slug="llm", position=7)

    # when
    report = topics_import(data=[_entry("rag", parent="llm")])

    # then
    assert report == TopicImportReport(created=1, updated=0, errors=[])
    assert _slugs_and_parents() == [("rag", "llm", 1), ("llm", None, 7)]


@pytest.mark.django_db
def test_a_parent_that_makes_a_cycle_is_rejected():
    # given
    llm = make_topic(slug="llm")
    make_topic(slug="rag", parent=llm)

    # when
    report = topics_import(data=[_entry("llm", parent="rag")])

    # then
    assert report.errors == [(1, "llm", "parent 'rag' would make a cycle")]
    assert Topic.objects.get(slug="llm").parent is None


@pytest.mark.parametrize(
    ("entry", "slug", "reason"),
    [
        ("llm", None, "not a JSON object"),
        ({"names": {"en": "LLM"}}, None, "missing fields: slug"),
        ({"slug": "llm"}, "llm", "missing fields: names"),
        (
            {**_entry("llm"), "position": 3, "colour": "red"},
            "llm",
            "unknown fields: colour, position",
        ),
        (
            _entry("large language models"),
            "large language models",
            "bad slug 'large language models' (letters, digits, - and _, at most 50)",
        ),
        (
            _entry("x" * 51),
            "x" * 51,
            f"bad slug {'x' * 51!r} (letters, digits, - and _, at most 50)",
        ),
        ({**_entry("x"), "slug": 7}, None, "bad slug 7 (letters, digits, - and _, at most 50)"),
        (_entry("llm", names={"zh": "语言大模型"}), "llm", 'names must include "en"'),
        (
            _entry("llm", names={"en": ""}),
            "llm",
            "names must be an object of language code → non-empty text",
        ),
        (
            _entry("llm", descriptions=["about"]),
            "llm",
            "descriptions must be an object of language code → non-empty text",
        ),
        (
            _entry("llm", categories=["cs.CL", "CS", "cs..AI"]),
            "llm",
            "bad arXiv categories: CS, cs..AI",
        ),
        (
            _entry("llm", categories="cs.CL"),
            "llm",
            "categories must be a list of non-empty strings",
        ),
        (_entry("llm", keywords=["GPT", 4]), "llm", "keywords must be a list of non-empty strings"),
        (_entry("llm", featured=1), "llm", "featured must be true or false"),
        (_entry("llm", parent=3), "llm", "parent must be a slug or null"),
        (_entry("llm", parent="llm"), "llm", "a topic cannot be its own parent"),
    ],
)
@pytest.mark.django_db
def test_an_invalid_entry_is_reported_with_its_index_and_slug(entry, slug, reason):
    # when
    report = topics_import(data=[_entry("kept"), entry])

    # then
    assert report.errors == [(2, slug, reason)]
    assert list(Topic.objects.values_list("slug", flat=True)) == ["kept"]


@pytest.mark.django_db
def test_a_slug_defined_twice_is_rejected_the_second_time():
    # when
    report = topics_import(data=[_entry("llm"), _entry("llm", featured=True)])

    # then
    assert report.errors == [(2, "llm", "slug already defined by entry 1")]
    assert list(Topic.objects.values_list("slug", "featured")) == [("llm", False)]


def test_a_catalogue_that_is_not_a_list_is_refused():
    with pytest.raises(CatalogueError):
        topics_import(data={"slug": "llm"})


@pytest.mark.django_db
def test_reimport_is_idempotent_and_follows_the_new_order():
    # given
    data = [_entry("llm"), _entry("rag", parent="llm"), _entry("robotics")]
    topics_import(data=data)
    ids = dict(Topic.objects.values_list("slug", "id"))

    # when
    again = topics_import(data=data)
    reordered = topics_import(data=[data[2], data[0], {**data[1], "featured": True}])

    # then
    assert again == TopicImportReport(created=0, updated=3, errors=[])
    assert reordered == TopicImportReport(created=0, updated=3, errors=[])
    assert dict(Topic.objects.values_list("slug", "id")) == ids
    assert _slugs_and_parents() == [("robotics", None, 1), ("llm", None, 2), ("rag", "llm", 3)]
    assert Topic.objects.get(slug="rag").featured is True


@pytest.mark.django_db
def test_export_puts_parents_before_children_and_round_trips():
    # given: a parent whose position sorts after its child
    robotics = make_topic(slug="robotics", position=5, names={"en": "Robotics", "zh": "机器人"})
    make_topic(slug="robot-learning", position=1, parent=robotics, keywords=["sim2real"])
    make_topic(slug="llm", position=2, featured=True, descriptions={"en": "LLMs"})
    exported = topics_export()

    # when
    Topic.objects.filter(parent__isnull=False).delete()
    Topic.objects.all().delete()
    report = topics_import(data=exported)

    # then
    assert [(t["slug"], t["parent"]) for t in exported] == [
        ("robotics", None),
        ("robot-learning", "robotics"),
        ("llm", None),
    ]
    assert exported[0] == {
        "slug": "robotics",
        "names": {"en": "Robotics", "zh": "机器人"},
        "descriptions": {},
        "categories": ["cs.CL"],
        "parent": None,
        "featured": False,
        "keywords": [],
    }
    assert report == TopicImportReport(created=3, updated=0, errors=[])
    assert topics_export() == exported


@pytest.mark.django_db
def test_the_default_catalogue_imports_cleanly_and_round_trips():
    # given
    if not DEFAULT_CATALOGUE.exists():
        pytest.skip("digests/catalogue/default_topics.json is not written yet")
    data = json.loads(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))

    # when
    report = topics_import(data=data)

    # then
    assert report == TopicImportReport(created=len(data), updated=0, errors=[])
    assert topics_export() == data


@pytest.mark.django_db
def test_import_command_prints_a_summary(tmp_path: Path):
    # given
    source = tmp_path / "topics.json"
    source.write_text(json.dumps([_entry("llm"), _entry("rag", parent="llm")]), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()

    # when
    call_command("import_topics", str(source), stdout=out, stderr=err)

    # then
    assert out.getvalue() == "imported 2 topics (2 created, 0 updated), 0 rejected\n"
    assert err.getvalue() == ""
    assert _slugs_and_parents() == [("llm", None, 1), ("rag", "llm", 2)]


@pytest.mark.django_db
def test_import_command_fails_when_entries_were_rejected_but_keeps_the_others(tmp_path: Path):
    # given
    source = tmp_path / "topics.json"
    source.write_text(
        json.dumps([_entry("llm"), _entry("rag", parent="nlp"), {"slug": "x"}]), encoding="utf-8"
    )
    out, err = io.StringIO(), io.StringIO()

    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_topics", str(source), stdout=out, stderr=err)

    # then
    assert str(caught.value) == "2 topics rejected (the others were imported)"
    assert err.getvalue() == (
        "entry 2 (rag): unknown parent 'nlp' (a parent must exist or come earlier in the file)\n"
        "entry 3 (x): missing fields: names\n"
    )
    assert out.getvalue() == "imported 1 topics (1 created, 0 updated), 2 rejected\n"
    assert list(Topic.objects.values_list("slug", flat=True)) == ["llm"]


def test_import_command_reports_invalid_json_with_line_and_column(tmp_path: Path):
    # given
    source = tmp_path / "topics.json"
    source.write_text('[\n  {"slug": "llm",\n   "names": {"en": "LLM"},}\n]\n', encoding="utf-8")

    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_topics", str(source), stdout=io.StringIO())

    # then
    assert str(caught.value) == (
        f"{source}: invalid JSON at line 3 column 27: "
        "Expecting property name enclosed in double quotes"
    )


def test_import_command_refuses_json_that_is_not_an_array(tmp_path: Path):
    # given
    source = tmp_path / "topics.json"
    source.write_text('{"slug": "llm"}', encoding="utf-8")

    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_topics", str(source), stdout=io.StringIO())

    # then
    assert str(caught.value) == f"{source}: the catalogue must be a JSON array of topic objects"


def test_import_command_names_a_missing_file(tmp_path: Path):
    with pytest.raises(CommandError) as caught:
        call_command("import_topics", str(tmp_path / "nope.json"), stdout=io.StringIO())

    assert str(caught.value) == f"no such file: {tmp_path / 'nope.json'}"


@pytest.mark.django_db
def test_export_command_prints_the_catalogue_as_a_json_array(tmp_path: Path):
    # given
    llm = make_topic(slug="llm", names={"en": "LLM", "zh": "语言大模型"})
    make_topic(slug="rag", parent=llm)
    out, err = io.StringIO(), io.StringIO()

    # when
    call_command("export_topics", stdout=out, stderr=err)

    # then
    assert json.loads(out.getvalue()) == topics_export()
    assert out.getvalue().startswith('[\n  {\n    "slug": "llm",\n    "names": {\n')
    assert '"zh": "语言大模型"' in out.getvalue()
    assert err.getvalue() == "exported 2 topics\n"

    # and the output imports back unchanged
    source = tmp_path / "topics.json"
    source.write_text(out.getvalue(), encoding="utf-8")
    call_command("import_topics", str(source), stdout=io.StringIO())
    assert json.loads(out.getvalue()) == topics_export()
