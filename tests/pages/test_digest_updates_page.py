"""The "view in browser" page and the archive's day show the digest's "updated" section as the
e-mail does (and the feed counts an updates-only digest's papers); the pages behind an e-mail's
tokens are never stored by a browser or a proxy."""

from __future__ import annotations

import datetime as dt

import pytest
from defusedxml import ElementTree
from django.test import Client
from django.urls import reverse

from digests.models import Digest
from digests.render import digest_render
from pages.feed import feed_build
from subscribers.models import Subscriber
from subscribers.tokens import digest_token, feedback_token, signin_token
from tests.factories import (
    make_digest,
    make_digest_item,
    make_digest_update,
    make_paper,
    make_subscriber,
)

DAY = dt.date(2026, 6, 18)
HOSTILE = '<img src=x onerror="alert(1)"> Trust-region distillation'


def _digest_with_update(language: str = "en") -> Digest:
    reader = make_subscriber(email="ada@example.org", language=language)
    digest = make_digest(subscriber=reader, issue_date=DAY, status=Digest.Status.ASSEMBLED)
    make_digest_item(digest=digest, paper=make_paper(title="A new paper today"))
    updated = make_paper(
        arxiv_id="2606.17199", version=2, title=HOSTILE, comment="Accepted at ICML 2026"
    )
    make_digest_update(digest=digest, paper=updated, previous_date=dt.date(2026, 6, 17))
    return digest


def _view_url(digest: Digest) -> str:
    return reverse("public:digest", args=[digest_token(digest_id=digest.pk)])


@pytest.mark.django_db
def test_the_browser_page_shows_the_updated_papers_below_the_new(client: Client) -> None:
    # given a digest with a new paper and a new version of a paper the reader got yesterday
    digest = _digest_with_update()

    # when the reader opens "view in browser"
    response = client.get(_view_url(digest))

    # then the updated section follows the new paper, with when they got it and what changed
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="updated"' in body and "Updated papers you got before" in body
    assert body.index("A new paper today") < body.index('id="updated"')
    section = body[body.index('id="updated"') :]
    assert "updated: you got v1 on 2026-06-17" in section
    assert "arXiv:2606.17199v2" in section
    assert "What changed:</strong> v2: Accepted at ICML 2026" in section
    assert "/papers/2606.17199/" in section and "https://arxiv.org/pdf/2606.17199v2" in section
    # the paper's title is text, never markup
    assert "<img" not in section and "&lt;img src=x" in section


@pytest.mark.django_db
def test_the_browser_page_speaks_the_readers_language_in_the_updated_section(
    client: Client,
) -> None:
    digest = _digest_with_update(language="zh")

    body = client.get(_view_url(digest)).content.decode()

    assert "你之前收到过的论文，有了新版本" in body
    assert "已更新：你在 2026-06-17 收到的是 v1" in body


@pytest.mark.django_db
def test_a_digest_without_updates_has_no_updated_section(client: Client) -> None:
    reader = make_subscriber()
    digest = make_digest(subscriber=reader, issue_date=DAY)
    make_digest_item(digest=digest)

    body = client.get(_view_url(digest)).content.decode()

    assert 'id="updated"' not in body and "Updated papers you got before" not in body


@pytest.mark.django_db
def test_an_updates_only_digest_shows_its_updates_on_the_page_and_in_the_subject(
    client: Client,
) -> None:
    # given a digest whose only content is a new version of a paper the reader got
    reader = make_subscriber(email="ada@example.org")
    digest = make_digest(subscriber=reader, issue_date=DAY, status=Digest.Status.ASSEMBLED)
    make_digest_update(digest=digest, previous_date=dt.date(2026, 6, 16))

    body = client.get(_view_url(digest)).content.decode()
    subject = digest_render(digest).subject

    assert "updated: you got v1 on 2026-06-16" in body
    assert subject == "arXiv digest 2026-06-18: 1 updated paper you got before"


@pytest.mark.django_db
def test_the_feed_entry_of_an_updates_only_digest_counts_its_updates() -> None:
    reader = make_subscriber(email="ada@example.org")
    digest = make_digest(subscriber=reader, issue_date=DAY, status=Digest.Status.SENT)
    make_digest_update(digest=digest)
    make_digest_update(digest=digest)

    feed = feed_build(subscriber=reader).writeString("utf-8")

    [entry] = ElementTree.fromstring(feed).iter("{http://www.w3.org/2005/Atom}entry")
    title = entry.find("{http://www.w3.org/2005/Atom}title")
    assert title is not None
    assert title.text == "arXiv digest 2026-06-18: 2 updated papers you got before"


@pytest.mark.django_db
def test_the_archive_day_shows_the_updated_section_too(client: Client) -> None:
    # given a reader signed in, whose digest of the day was sent with an update
    digest = _digest_with_update()
    digest.status = Digest.Status.SENT
    digest.save(update_fields=["status"])
    reader = Subscriber.objects.get(pk=digest.subscriber_id)
    client.post(f"/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/")

    response = client.get(reverse("public:archive_day", args=[DAY.isoformat()]))

    assert response.status_code == 200
    assert "updated: you got v1 on 2026-06-17" in response.content.decode()


# Pages reached by an e-mail's token are never stored.


@pytest.mark.django_db
def test_the_view_in_browser_feedback_and_manage_pages_say_no_store(client: Client) -> None:
    # given a reader's digest and a paper in it
    digest = _digest_with_update()
    reader_id, paper = digest.subscriber_id, digest.items.get().paper
    more = reverse(
        "public:feedback",
        args=[feedback_token(subscriber_id=reader_id, paper_id=paper.pk, signal="more")],
    )
    manage = reverse("public:manage", args=["forged"])

    # when each page behind a token is opened, posted to, or reached with a bad token
    answers = {
        "view in browser": client.get(_view_url(digest)),
        "view in browser (bad token)": client.get("/d/forged/"),
        "feedback page": client.get(more),
        "feedback recorded": client.post(more),
        "feedback (bad token)": client.get("/f/forged/"),
        "manage (bad token)": client.get(manage),
    }

    # then every answer forbids storing it
    assert answers["view in browser"].status_code == 200
    assert answers["feedback recorded"].status_code == 200
    missing = [name for name, r in answers.items() if "no-store" not in r.get("Cache-Control", "")]
    assert missing == []
