"""Staff read the author pages' lookups on arXiv: state, papers found, requests, errors; the list
costs the same whatever its length, and no row is added or edited there."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.test import Client
from django.utils import timezone

from digests.models import AuthorBackfill
from tests.staff.test_admin import MAX_LIST_QUERIES, admin_url

_serial = itertools.count()
HOSTILE = '<script>alert("x")</script> Mallory'


def add_backfill(**fields: object) -> AuthorBackfill:
    n = next(_serial)
    fields.setdefault("name", f"Author Number{n}")
    fields.setdefault("key", f"author number{n}")
    fields.setdefault("requested_at", timezone.now() - dt.timedelta(minutes=n))
    return AuthorBackfill.objects.create(**fields)


@pytest.mark.django_db
def test_the_list_costs_the_same_for_3_or_20_lookups(
    admin_client: Client, django_assert_max_num_queries
) -> None:
    # given 3 lookups, done, failed and pending
    add_backfill(state="done", arxiv_ids=["2606.10001", "2606.10002"], api_requests=1)
    add_backfill(state="failed", error="arXiv did not answer (HTTP 503)", api_requests=3)
    add_backfill()
    url = admin_url(AuthorBackfill, "changelist")

    # when the list is opened with 3 rows, then with 20
    with django_assert_max_num_queries(MAX_LIST_QUERIES) as with_3:
        assert admin_client.get(url).status_code == 200
    for _ in range(17):
        add_backfill(state="done", arxiv_ids=["2606.10003"])
    with django_assert_max_num_queries(MAX_LIST_QUERIES) as with_20:
        response = admin_client.get(url)

    # then all 20 are listed for the same number of queries
    assert response.context["cl"].result_count == 20
    assert len(with_20) == len(with_3)


@pytest.mark.django_db
def test_the_list_says_what_each_lookup_did(admin_client: Client) -> None:
    done = add_backfill(name="Yongjin Yang", key="yongjin yang", state="done", api_requests=2)
    done.arxiv_ids = ["2606.10001", "2606.10002", "2606.10003"]
    done.save()
    add_backfill(name="Gordon Fraser", key="gordon fraser", state="failed", error="HTTP 503")
    url = admin_url(AuthorBackfill, "changelist")

    page = admin_client.get(url)
    rows = {row.name: row for row in page.context["cl"].result_list}
    body = page.content.decode()

    assert set(rows) == {"Yongjin Yang", "Gordon Fraser"}
    assert '<td class="field-papers_found">3</td>' in body
    assert '<td class="field-short_error">HTTP 503</td>' in body
    assert 'href="/authors/Yongjin%20Yang/"' in body
    failed = admin_client.get(url, {"state__exact": "failed"}).context["cl"].result_list
    assert [row.name for row in failed] == ["Gordon Fraser"]
    found = admin_client.get(url, {"q": "yongjin"}).context["cl"].result_list
    assert [row.name for row in found] == ["Yongjin Yang"]


@pytest.mark.django_db
def test_a_hostile_name_is_shown_as_text(admin_client: Client) -> None:
    add_backfill(name=HOSTILE, key="mallory", state="failed", error=HOSTILE)

    body = admin_client.get(admin_url(AuthorBackfill, "changelist")).content.decode()

    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Mallory" in body


@pytest.mark.django_db
def test_a_lookup_is_shown_but_cannot_be_added_or_edited(
    admin_client: Client,
) -> None:
    row = add_backfill(state="done", arxiv_ids=["2606.10001"])
    before = AuthorBackfill.objects.values().get(pk=row.pk)

    page = admin_client.get(admin_url(AuthorBackfill, "change", row.pk))
    posted = admin_client.post(
        admin_url(AuthorBackfill, "change", row.pk), {"name": "Changed", "state": "pending"}
    )

    assert page.status_code == 200 and "2606.10001" in page.content.decode()
    assert admin_client.get(admin_url(AuthorBackfill, "add")).status_code == 403
    assert posted.status_code == 403
    assert AuthorBackfill.objects.values().get(pk=row.pk) == before
