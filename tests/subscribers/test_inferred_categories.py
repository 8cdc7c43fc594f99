"""The profile editor says which categories the reader seems to read; they confirm or drop them."""

from __future__ import annotations

import pytest
from django.test import Client

from digests.daily import categories_needed
from subscribers.models import Subscriber
from subscribers.session import SESSION_KEY, email_fingerprint
from tests.digests.test_categories import papers_from_recording
from tests.factories import make_subscriber

PROFILE = "/profile/"
INFERRED = "/profile/categories/"
TEXT = "speech recognition, spoken language models and text to speech"


def _sign_in(client: Client, subscriber: Subscriber) -> None:
    session = client.session
    session[SESSION_KEY] = {"id": subscriber.pk, "fp": email_fingerprint(subscriber.email)}
    session.save()


@pytest.fixture
def reader(db, shared_recordings, client) -> Subscriber:
    papers_from_recording(shared_recordings)
    subscriber = make_subscriber(interests=TEXT)
    _sign_in(client, subscriber)
    return subscriber


def _block(html: str) -> str:
    start = html.find('id="inferred-categories"')
    return html[start : html.find("</section>", start)] if start >= 0 else ""


def test_the_editor_shows_the_categories_the_reader_seems_to_read(client, reader):
    html = client.get(PROFILE).content.decode()

    block = _block(html)
    assert "you seem to read" in block and "eess.AS" in block and "cs.SD" in block
    assert 'id="inferred-confirm-eess.AS"' in block and 'id="inferred-drop-cs.SD"' in block


def test_confirming_adds_the_category_and_dropping_hides_it_for_good(client, reader):
    response = client.post(INFERRED, {"category": "eess.AS", "action": "confirm"})
    assert response.status_code == 302
    client.post(INFERRED, {"category": "cs.SD", "action": "drop"})

    reader.profile.refresh_from_db()
    assert reader.profile.categories == ["eess.AS"]
    assert reader.profile.dropped_categories == ["cs.SD"]
    page = client.get(PROFILE).content.decode()
    assert "eess.AS is now one of your categories." in page
    assert "We will not suggest cs.SD again." in page
    block = _block(page)
    assert "eess.AS" not in block and "cs.SD" not in block  # named, or dropped
    # and ingestion reads the confirmed category (the reader now names one)
    assert categories_needed() == {"eess.AS"}


def test_an_unknown_category_changes_nothing(client, reader):
    client.post(INFERRED, {"category": "cs.FOO", "action": "confirm"})
    reader.profile.refresh_from_db()
    assert reader.profile.categories == []
    assert "cs.FOO" in client.get(PROFILE).content.decode()  # the error is said


def test_the_editor_speaks_chinese(client, reader):
    reader.language = "zh"
    reader.save()
    html = client.get(PROFILE, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "加入我的分类" in _block(html)


def test_a_profile_with_nothing_to_infer_from_shows_no_block(client, db):
    subscriber = make_subscriber(keywords=["diffusion"])
    _sign_in(client, subscriber)
    assert 'id="inferred-categories"' not in client.get(PROFILE).content.decode()


def test_inferring_needs_a_signed_in_reader_and_a_post(client, reader):
    assert client.get(INFERRED).status_code == 405
    anonymous = Client()
    response = anonymous.post(INFERRED, {"category": "eess.AS", "action": "confirm"})
    assert response.status_code in {302, 403}
    reader.profile.refresh_from_db()
    assert reader.profile.categories == []


def test_keywords_alone_say_what_field_as_they_do_for_the_scorer(db, shared_recordings, client):
    # given a reader who gave only keywords
    papers_from_recording(shared_recordings)
    subscriber = make_subscriber(keywords=["speech recognition", "text to speech"])
    _sign_in(client, subscriber)

    # then the editor names the categories the scorer's prior reads from those keywords
    block = _block(client.get(PROFILE).content.decode())
    assert "you seem to read" in block and "eess.AS" in block
