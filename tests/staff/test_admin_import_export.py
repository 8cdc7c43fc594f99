"""Import and export of subscribers and topics from the admin, in the commands' own format."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from digests.models import Topic
from subscribers.models import Subscriber
from tests.factories import make_subscriber, make_topic


def upload(client: Client, url_name: str, name: str, content: bytes):
    return client.post(reverse(url_name), {"file": SimpleUploadedFile(name, content)})


def command_output(name: str) -> str:
    out = io.StringIO()
    call_command(name, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def download(client: Client, url_name: str) -> bytes:
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
def test_subscribers_are_imported_with_counts_and_numbered_errors(admin_client: Client) -> None:
    # given a file of three lines: a new reader, a known one, and a bad address
    make_topic(slug="post-training")
    make_subscriber(email="bob@example.org", language="en")
    lines = [
        {"email": "ada@example.org", "language": "zh", "topics": ["post-training"]},
        {"email": "BOB@example.org", "language": "zh"},
        {"email": "not an address"},
    ]
    content = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()

    # when staff upload it
    response = upload(admin_client, "admin:subscribers_subscriber_import", "s.jsonl", content)

    # then the page says what the command says, and the good lines were imported
    assert response.status_code == 200
    result = response.context["result"]
    assert result["summary"] == ("imported 2 subscribers (1 created, 1 updated), 1 lines rejected")
    assert result["errors"] == ["line 3: bad e-mail address 'not an address'"]
    assert "line 3: bad e-mail address" in response.text
    ada = Subscriber.objects.get(email="ada@example.org")
    assert [t.slug for t in ada.profile.topics.all()] == ["post-training"]
    assert Subscriber.objects.get(email="bob@example.org").language == "zh"


@pytest.mark.django_db
def test_a_line_that_is_not_utf8_is_rejected_alone(admin_client: Client) -> None:
    # given a file whose second line is Latin-1
    content = b'{"email": "ada@example.org"}\n{"email": "caf\xe9@example.org"}\n'

    # when staff upload it
    response = upload(admin_client, "admin:subscribers_subscriber_import", "s.jsonl", content)

    # then the first line is imported and the second reported by number
    assert response.context["result"]["errors"] == ["line 2: not valid UTF-8 (byte 15)"]
    assert Subscriber.objects.filter(email="ada@example.org").exists()


@pytest.mark.django_db
def test_the_subscriber_export_is_the_commands_output(admin_client: Client) -> None:
    # given two subscribers, one with a Chinese profile
    topic = make_topic(slug="post-training")
    make_subscriber(email="ada@example.org", language="zh", topics=[topic], interests="蒸馏")
    make_subscriber(email="bob@example.org", status=Subscriber.Status.SUPPRESSED)

    # when staff download the export
    body = download(admin_client, "admin:subscribers_subscriber_export")

    # then it is byte for byte what `export_subscribers` prints
    assert body.decode() == command_output("export_subscribers")
    assert [json.loads(line)["email"] for line in body.decode().splitlines()] == [
        "ada@example.org",
        "bob@example.org",
    ]


@pytest.mark.django_db
def test_the_subscriber_export_imports_back_unchanged(admin_client: Client) -> None:
    # given an export of a subscriber
    make_subscriber(email="ada@example.org", language="zh", keywords=["distillation"])
    before = download(admin_client, "admin:subscribers_subscriber_export")

    # when it is imported back from the admin
    response = upload(admin_client, "admin:subscribers_subscriber_import", "s.jsonl", before)

    # then it updates the one subscriber and the next export is the same
    assert response.context["result"]["errors"] == []
    assert download(admin_client, "admin:subscribers_subscriber_export") == before


@pytest.mark.django_db
def test_topics_are_imported_with_counts_and_indexed_errors(admin_client: Client) -> None:
    # given a catalogue with a parent, a child, and an entry with an unknown parent
    catalogue = [
        {"slug": "llm", "names": {"en": "LLMs", "zh": "语言大模型"}, "keywords": ["LLM"]},
        {"slug": "post-training", "names": {"en": "Post-training"}, "parent": "llm"},
        {"slug": "orphan", "names": {"en": "Orphan"}, "parent": "nowhere"},
    ]

    # when staff upload it
    response = upload(
        admin_client,
        "admin:digests_topic_import",
        "topics.json",
        json.dumps(catalogue, ensure_ascii=False).encode(),
    )

    # then the page reports as the command does, and the valid entries are in
    result = response.context["result"]
    assert result["summary"] == "imported 2 topics (2 created, 0 updated), 1 rejected"
    assert result["errors"] == [
        "entry 3 (orphan): unknown parent 'nowhere' (a parent must exist or come earlier "
        "in the file)"
    ]
    assert Topic.objects.get(slug="post-training").parent.slug == "llm"


@pytest.mark.django_db
def test_a_topic_file_that_is_not_json_imports_nothing(admin_client: Client) -> None:
    # given a file that is not JSON
    content = b'[{"slug": "llm",'

    # when staff upload it
    response = upload(admin_client, "admin:digests_topic_import", "topics.json", content)

    # then the page says where the JSON breaks, and nothing was written
    assert response.context["result"]["failure"].startswith("invalid JSON at line 1 column 17")
    assert "Nothing imported" in response.text
    assert Topic.objects.count() == 0


@pytest.mark.django_db
def test_the_topic_export_is_the_commands_output_and_imports_back(admin_client: Client) -> None:
    # given a small catalogue
    llm = make_topic(slug="llm", names={"en": "LLMs", "zh": "语言大模型"}, keywords=["LLM"])
    make_topic(slug="post-training", parent=llm, featured=True)

    # when staff download it, then upload it again
    body = download(admin_client, "admin:digests_topic_export")
    response = upload(admin_client, "admin:digests_topic_import", "topics.json", body)

    # then it is what `export_topics` prints, and it round-trips
    assert body.decode() == command_output("export_topics")
    assert response.context["result"]["summary"] == (
        "imported 2 topics (0 created, 2 updated), 0 rejected"
    )
    assert download(admin_client, "admin:digests_topic_export") == body


@pytest.mark.django_db
def test_the_import_pages_ask_for_a_file(admin_client: Client) -> None:
    # when staff post the forms without a file
    responses = [
        admin_client.post(reverse(name))
        for name in ("admin:subscribers_subscriber_import", "admin:digests_topic_import")
    ]

    # then each asks for one
    assert [r.context["result"]["failure"] for r in responses] == ["Choose a file to import."] * 2


@pytest.mark.django_db
def test_a_non_staff_user_cannot_import(client: Client, django_user_model) -> None:
    # given a signed-in user who is not staff
    client.force_login(django_user_model.objects.create_user("reader", password="x"))
    content = b'{"email": "ada@example.org"}\n'

    # when they post a file to the import page
    response = upload(client, "admin:subscribers_subscriber_import", "s.jsonl", content)

    # then they are sent to the login and nothing is imported
    assert response.status_code == 302
    assert not Subscriber.objects.exists()


@pytest.mark.django_db
def test_staff_without_the_permission_cannot_import_or_export(
    client: Client, django_user_model
) -> None:
    # given a staff member with no model permission
    client.force_login(django_user_model.objects.create_user("clerk", password="x", is_staff=True))

    # when they open the import and export pages
    codes = [
        client.get(reverse(name)).status_code
        for name in (
            "admin:subscribers_subscriber_import",
            "admin:subscribers_subscriber_export",
            "admin:digests_topic_import",
            "admin:digests_topic_export",
        )
    ]

    # then each is refused
    assert codes == [403] * 4
