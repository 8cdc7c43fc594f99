"""The paper page's reading-list button: Save / Remove for a signed-in reader, none for visitors."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from digests.models import SavedPaper
from pages.saved import paper_save
from subscribers.models import Subscriber
from subscribers.tokens import signin_token
from tests.factories import make_paper, make_subscriber


def _signed_in(client: Client, subscriber: Subscriber) -> Client:
    client.post(f"/signin/{signin_token(subscriber_id=subscriber.pk, email=subscriber.email)}/")
    return client


@pytest.mark.django_db
def test_a_visitor_sees_no_save_button_and_no_reading_list_is_read(client):
    paper = make_paper()

    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/papers/{paper.arxiv_id}/")

    assert page.status_code == 200
    assert "/save/" not in page.text and "/unsave/" not in page.text
    assert not [q for q in queries.captured_queries if "savedpaper" in q["sql"]]


@pytest.mark.django_db
def test_a_reader_saves_from_the_paper_page_and_removes_it_there(client):
    # given a signed-in reader on a paper's page
    paper, other = make_paper(), make_paper()
    reader = make_subscriber()
    paper_save(subscriber=reader, paper=other)  # another saved paper does not count for this one
    client = _signed_in(client, reader)
    url = f"/papers/{paper.arxiv_id}/"

    page = client.get(url).text

    # then the page offers "Save for later", coming back to this page
    assert f'action="/papers/{paper.arxiv_id}/save/"' in page and 'id="save"' in page
    assert f'name="next" value="{url}"' in page and "/unsave/" not in page

    # when the reader presses it
    saved = client.post(f"/papers/{paper.arxiv_id}/save/", {"next": url})

    # then the paper is on the list, the reader is back on the page, and it offers "Remove"
    assert saved.status_code == 302 and saved["Location"] == url
    assert SavedPaper.objects.filter(subscriber=reader, paper=paper).exists()
    page = client.get(url).text
    assert f'action="/papers/{paper.arxiv_id}/unsave/"' in page and 'id="unsave"' in page
    assert "Remove from reading list" in page and 'id="save"' not in page

    # when the reader removes it
    removed = client.post(f"/papers/{paper.arxiv_id}/unsave/", {"next": url})

    # then it is off the list (the other stays) and the page offers "Save" again
    assert removed["Location"] == url
    assert list(SavedPaper.objects.values_list("paper_id", flat=True)) == [other.pk]
    assert f'action="/papers/{paper.arxiv_id}/save/"' in client.get(url).text


@pytest.mark.django_db
def test_the_button_speaks_the_readers_language_and_costs_one_query(client):
    paper = make_paper()
    reader = make_subscriber(language="zh")
    paper_save(subscriber=reader, paper=paper)
    client = _signed_in(client, reader)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/papers/{paper.arxiv_id}/").text

    assert "移出阅读列表" in page and "Remove from reading list" not in page
    assert len([q for q in queries.captured_queries if "savedpaper" in q["sql"]]) == 1
