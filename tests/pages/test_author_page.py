"""The author page: batches ("another batch" draws a different set), the follow chip, papers
from ingestion and from arXiv's author search together, and its queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from digests.models import AuthorBackfill, Paper
from pages.author_page import BATCH_SIZE, batch_draw
from subscribers.models import Subscriber
from subscribers.session import SESSION_KEY, email_fingerprint
from tests.factories import make_enrichment, make_paper, make_subscriber, make_topic

DAY = dt.date(2026, 6, 18)


def _url(name: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("public:author", args=[name]) + (f"?{query}" if query else "")


def _shown(html: str) -> list[str]:
    return re.findall(r'id="paper-([^"]+)"', html)


def _papers_by(name: str, n: int) -> list[Paper]:
    """n papers of `name`, one a day, newest first."""
    return [
        make_paper(
            announce_date=DAY - dt.timedelta(days=i), authors=[{"name": name, "affiliations": []}]
        )
        for i in range(n)
    ]


def _looked_up(name: str, arxiv_ids: list[str]) -> None:
    """As if arXiv's author search had found these papers for `name` just now."""
    AuthorBackfill.objects.create(
        key=" ".join(name.lower().split()),
        name=name,
        state=AuthorBackfill.State.DONE,
        requested_at=timezone.now(),
        fetched_at=timezone.now(),
        arxiv_ids=arxiv_ids,
    )


def _sign_in(client, subscriber: Subscriber) -> None:
    session = client.session
    session[SESSION_KEY] = {
        "id": subscriber.pk,
        "fp": email_fingerprint(subscriber.email),
        "scope": "full" if subscriber.status == Subscriber.Status.ACTIVE else "data",
    }
    session.save()


def test_batch_draw_gives_the_newest_first_then_different_sets_then_round_again():
    ordered = list(range(100, 145))  # 45 ids, newest first

    drawn = [batch_draw(ordered, seed="qifan wang", batch=b, size=20) for b in range(1, 5)]

    assert drawn[0] == (1, ordered[:20])
    assert [shown for shown, _ in drawn] == [1, 2, 3, 1]
    assert sorted(drawn[1][1] + drawn[2][1]) == ordered[20:]  # every other paper, once
    assert drawn[1][1] != ordered[20:40]  # drawn, not the next twenty in date order
    assert drawn[1][1] == sorted(drawn[1][1], key=ordered.index)  # newest first within one
    assert drawn[3] == drawn[0]
    assert batch_draw(ordered, seed="qifan wang", batch=2, size=20) == drawn[1]  # stable
    assert batch_draw([], seed="x", batch=3, size=20) == (1, [])


@pytest.mark.django_db
def test_another_batch_draws_a_different_set_of_their_papers(client):
    # given 45 papers by one author
    papers = _papers_by("Qifan Wang", 45)

    # when the page and "another batch" are opened, batch after batch
    first = client.get(_url("Qifan Wang"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    html = first.content.decode()
    batches = [_shown(html)]
    for b in (2, 3, 4):
        batches.append(_shown(client.get(_url("Qifan Wang", page=str(b))).content.decode()))

    # then the first batch is the 20 newest, numbered from 01, under the author's chip, with
    # 换一批 drawing batch 2; batches 2 and 3 are the other 25 papers, each once; then round again
    assert first.status_code == 200
    assert batches[0] == [p.arxiv_id for p in papers[:BATCH_SIZE]]
    assert "作者：Qifan Wang" in html and '<span class="number">01.</span>' in html
    assert 'id="another-batch" href="?page=2"' in html and "换一批" in html
    assert sorted(batches[1] + batches[2]) == sorted(p.arxiv_id for p in papers[20:])
    assert batches[1] != [p.arxiv_id for p in papers[20:40]]
    assert batches[3] == batches[0]
    third = client.get(_url("Qifan Wang", page="3")).content.decode()
    assert 'id="another-batch" href="?page=1"' in third


@pytest.mark.django_db
def test_papers_from_the_author_search_join_the_ingested_ones_newest_first(client):
    # given one paper ingested, and the author search having found it and two older ones
    ingested = make_paper(announce_date=DAY, authors=[{"name": "Yongjin Yang", "affiliations": []}])
    older = make_paper(
        announce_date=None,
        announce_type="",
        published=timezone.make_aware(dt.datetime(2025, 3, 1)),
        authors=[{"name": "Yongjin Yang", "affiliations": []}],
    )
    oldest = make_paper(
        announce_date=None,
        announce_type="",
        published=timezone.make_aware(dt.datetime(2024, 1, 5)),
        authors=[{"name": "Y. Yang", "affiliations": []}],
    )
    _looked_up("Yongjin Yang", [oldest.arxiv_id, ingested.arxiv_id, older.arxiv_id])

    # when their page is opened
    response = client.get(_url("Yongjin Yang"))

    # then the three are there once each, newest first, the looked-up ones with their first
    # version's date and no announcement badge
    html = response.content.decode()
    assert response.status_code == 200
    assert _shown(html) == [ingested.arxiv_id, older.arxiv_id, oldest.arxiv_id]
    assert '<time class="submitted" datetime="2025-03-01">' in html
    assert response.context["view"].total == 3
    assert html.count('class="badge announce-') == 1


@pytest.mark.django_db
def test_unknown_author_answers_while_looked_up_then_404_once_nothing_was_found(client):
    # given papers by someone else
    make_paper(authors=[{"name": "Ada Lovelace", "affiliations": []}])

    # when an author without papers is opened: the lookup is queued
    first = client.get(_url("Nobody Known"), HTTP_ACCEPT_LANGUAGE="en")
    # and once it found nothing
    AuthorBackfill.objects.update(state=AuthorBackfill.State.DONE, fetched_at=timezone.now())
    after = client.get(_url("Nobody Known"), HTTP_ACCEPT_LANGUAGE="en")

    # then the page first says it is looking, then answers 404 saying there is no paper
    assert first.status_code == 200 and "Looking up" in first.content.decode()
    assert after.status_code == 404
    assert "No paper by this author was found." in after.content.decode()
    assert '<meta name="robots" content="noindex">' in after.content.decode()


@pytest.mark.django_db
def test_the_chip_of_a_followed_author_unfollows_them(client):
    # given a signed-in reader who follows Yongjin Yang (in the "Last, First" spelling) and Ada
    _papers_by("Yongjin Yang", 2)
    reader = make_subscriber(authors=["Yang, Yongjin", "Ada Lovelace"])
    _sign_in(client, reader)

    # when they open the author's page
    html = client.get(_url("Yongjin Yang"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then the chip carries × to stop following
    assert 'id="unfollow"' in html and 'id="follow"' not in html

    # when they press it
    response = client.post(
        reverse("public:author_follow"), {"name": "Yongjin Yang", "action": "unfollow"}
    )

    # then the author is gone from their profile in every spelling, Ada stays, and they are back
    # on the page, now offered to follow
    reader.profile.refresh_from_db()
    assert reader.profile.authors == ["Ada Lovelace"]
    assert response.status_code == 302 and response["Location"] == _url("Yongjin Yang")
    again = client.get(_url("Yongjin Yang")).content.decode()
    assert 'id="follow"' in again and 'id="unfollow"' not in again

    # when they follow again
    client.post(reverse("public:author_follow"), {"name": "Yongjin Yang", "action": "follow"})

    # then the name is added once
    reader.profile.refresh_from_db()
    assert reader.profile.authors == ["Ada Lovelace", "Yongjin Yang"]
    client.post(reverse("public:author_follow"), {"name": "Yongjin Yang", "action": "follow"})
    reader.profile.refresh_from_db()
    assert reader.profile.authors == ["Ada Lovelace", "Yongjin Yang"]


@pytest.mark.django_db
def test_visitors_and_readers_who_left_cannot_follow(client):
    # given an author's papers and a reader who unsubscribed, signed in for their data only
    _papers_by("Yongjin Yang", 1)
    left = make_subscriber(status=Subscriber.Status.UNSUBSCRIBED, authors=["Ada Lovelace"])

    # when a visitor opens the page, the chip's × only closes it; no follow button
    html = client.get(_url("Yongjin Yang")).content.decode()
    assert 'class="chip-remove" href="/"' in html and 'id="follow"' not in html

    # when the reader who left posts a follow
    _sign_in(client, left)
    response = client.post(
        reverse("public:author_follow"), {"name": "Yongjin Yang", "action": "follow"}
    )

    # then nothing changes: they are sent to sign in
    left.profile.refresh_from_db()
    assert left.profile.authors == ["Ada Lovelace"]
    assert response.status_code == 302 and "signin" in response["Location"]
    assert client.get(reverse("public:author_follow")).status_code == 405


@pytest.mark.django_db
def test_a_name_that_cannot_be_followed_is_a_clear_400(client):
    reader = make_subscriber()
    _sign_in(client, reader)
    for name in ("Plato", "A " + "b" * 300):
        response = client.post(reverse("public:author_follow"), {"name": name, "action": "follow"})
        assert response.status_code == 400
        assert "This name cannot be followed." in response.content.decode()
    reader.profile.refresh_from_db()
    assert reader.profile.authors == []


@pytest.mark.django_db
@pytest.mark.parametrize("n", [5, 30])
def test_author_page_queries_do_not_grow_with_papers(client, django_assert_num_queries, n):
    # given n papers by one author, half ingested and half found by the author search, each
    # with a reading, and topics
    make_topic(slug="llm", names={"en": "LLM", "zh": "大模型"})
    papers = _papers_by("Lorenzo Mazzaschi", n)
    for paper in papers:
        make_enrichment(paper=paper, language="zh")
    Paper.objects.filter(pk__in=[p.pk for p in papers[n // 2 :]]).update(
        announce_date=None, announce_type=""
    )
    url = _url("Lorenzo Mazzaschi")

    # when the page is first opened (the lookup is queued), on a cold cache
    # then: lookup row, its creation (savepoint, insert, release), the row again, latest paper,
    # author index, topics, papers, readings
    with django_assert_num_queries(10):
        client.get(url)
    _looked_up_ids = [p.arxiv_id for p in papers[n // 2 :]]
    AuthorBackfill.objects.update(
        state=AuthorBackfill.State.DONE, fetched_at=timezone.now(), arxiv_ids=_looked_up_ids
    )

    # and when it is opened again (the index held): latest paper, lookup row, both lists'
    # dates, topics, papers, readings; the same for 5 and 30 papers
    with django_assert_num_queries(6):
        response = client.get(url)
    assert response.context["view"].total == n
    assert len(response.context["view"].items) == min(n, BATCH_SIZE)
