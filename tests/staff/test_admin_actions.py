"""Staff actions: preview a day's digest, resend a magic link, suppress, retry a delivery.

Celery: the actions enqueue with `transaction.on_commit(task.delay)`. The tests replace the
task in the module that enqueues it with a recorder, and run the commit callbacks with
`django_capture_on_commit_callbacks(execute=True)`: that shows the task is enqueued, once,
and only after the commit. One test runs the real task eagerly to show the fixed delivery
really goes out.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from digests.models import Delivery, Digest, Paper
from newsletter.celery import app
from staff import actions as staff_actions
from subscribers.models import Subscriber
from tests.factories import (
    make_delivery,
    make_digest,
    make_digest_item,
    make_enrichment,
    make_paper,
    make_subscriber,
    make_topic,
)

DAY = dt.date(2026, 6, 18)
# Session, user, the row, its inlines or digest table, each fetched once whatever their length.
PAPER_PAGE_QUERIES = 7  # + the paper, its readings, its digest items with digest and subscriber
SUBSCRIBER_PAGE_QUERIES = 7  # + the profile and its topics, the latest digests with deliveries


@pytest.fixture
def send_queue(monkeypatch) -> list[int]:
    """The digest ids `digest_deliver` is enqueued with, instead of a worker sending them."""
    queued: list[int] = []
    monkeypatch.setattr(staff_actions, "digest_deliver", SimpleNamespace(delay=queued.append))
    return queued


@pytest.fixture
def eager_celery():
    """Celery runs a task in the caller's process when it is enqueued."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def run_action(client: Client, model_url: str, action: str, ids: list[int], **kwargs):
    return client.post(
        reverse(model_url),
        {"action": action, "_selected_action": [str(i) for i in ids]},
        follow=True,
        **kwargs,
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def failed_delivery(**subscriber_fields) -> Delivery:
    subscriber = make_subscriber(**subscriber_fields)
    digest = make_digest(subscriber=subscriber, issue_date=DAY)
    make_digest_item(digest=digest)
    return make_delivery(
        digest=digest, status=Delivery.Status.FAILED, attempts=2, last_error="recipient refused"
    )


# Who may see the staff pages


@pytest.fixture
def staff_pages(db) -> list[str]:
    subscriber = make_subscriber()
    topic = make_topic()
    paper = make_paper()
    return [
        reverse("admin:subscribers_subscriber_changelist"),
        reverse("admin:subscribers_subscriber_change", args=[subscriber.pk]),
        reverse("admin:subscribers_subscriber_preview", args=[subscriber.pk]),
        reverse("admin:subscribers_subscriber_import"),
        reverse("admin:subscribers_subscriber_export"),
        reverse("admin:digests_topic_change", args=[topic.pk]),
        reverse("admin:digests_topic_import"),
        reverse("admin:digests_topic_export"),
        reverse("admin:digests_paper_change", args=[paper.pk]),
        reverse("admin:digests_delivery_changelist"),
    ]


@pytest.mark.django_db
def test_staff_open_every_staff_page(admin_client: Client, staff_pages: list[str]) -> None:
    # when staff open each page, then each answers
    assert [admin_client.get(url).status_code for url in staff_pages] == [200] * len(staff_pages)


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login(client: Client, staff_pages: list[str]) -> None:
    # when someone not signed in opens each page
    responses = [client.get(url) for url in staff_pages]

    # then each sends them to the admin login, and shows nothing
    assert {r.status_code for r in responses} == {302}
    assert all(r["Location"].startswith(reverse("admin:login")) for r in responses)


@pytest.mark.django_db
def test_a_signed_in_non_staff_user_gets_nothing(client: Client, staff_pages: list[str]) -> None:
    # given a user who is not staff, signed in
    client.force_login(User.objects.create_user("reader", password="x"))

    # when they open each page, or post an action
    responses = [client.get(url) for url in staff_pages]
    subscriber = make_subscriber(status=Subscriber.Status.ACTIVE)
    posted = client.post(
        reverse("admin:subscribers_subscriber_changelist"),
        {"action": "suppress", "_selected_action": [str(subscriber.pk)]},
    )

    # then each sends them to the login and the action changed nothing
    assert {r.status_code for r in [*responses, posted]} == {302}
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


# Preview a subscriber's digest for a day


@pytest.mark.django_db
def test_the_preview_ranks_the_chosen_days_papers_and_writes_nothing(admin_client: Client) -> None:
    # given a reader of on-policy distillation, and papers of two days
    subscriber = make_subscriber(keywords=["on-policy distillation"], language="zh")
    wanted = make_paper(
        title="Trust-region on-policy distillation", announce_date=DAY - dt.timedelta(days=1)
    )
    make_enrichment(paper=wanted, language="zh", title="信赖域同策略蒸馏", status="ok")
    make_paper(title="A survey of robots", announce_date=DAY - dt.timedelta(days=1))
    make_paper(title="On-policy distillation, later", announce_date=DAY)

    # when staff preview the earlier day
    url = reverse("admin:subscribers_subscriber_preview", args=[subscriber.pk])
    response = admin_client.get(url, {"day": "2026-06-17"})

    # then that day's matching paper is listed with its relevance and reason, and no digest
    # was made
    preview = response.context["preview"]
    assert (preview.issue_date, preview.considered) == (dt.date(2026, 6, 17), 2)
    assert [item.shown.paper for item in preview.items] == [wanted]
    assert preview.items[0].shown.relevance > 0
    assert "on-policy distillation" in preview.items[0].reason
    assert "Trust-region on-policy distillation" in response.text
    assert Digest.objects.count() == 0


@pytest.mark.django_db
def test_the_preview_defaults_to_the_last_day_and_shows_a_sent_email(
    admin_client: Client,
) -> None:
    # given a digest assembled and sent for the last day
    subscriber = make_subscriber(keywords=["distillation"])
    paper = make_paper(title="Knowledge distillation", announce_date=DAY)
    digest = make_digest(subscriber=subscriber, issue_date=DAY)
    make_digest_item(digest=digest, paper=paper)
    make_delivery(digest=digest, status=Delivery.Status.SENT)

    # when staff open the preview without a day
    url = reverse("admin:subscribers_subscriber_preview", args=[subscriber.pk])
    response = admin_client.get(url)

    # then it is the last day's, with the e-mail as rendered for sending, and nothing sent
    assert response.context["day"] == DAY
    assert response.context["preview"].digest == digest
    assert "Knowledge distillation" in response.context["email"].html
    assert "<iframe" in response.text
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_preview_action_goes_to_the_page_of_one_subscriber(admin_client: Client) -> None:
    # given two subscribers
    first, second = make_subscriber(), make_subscriber()

    # when staff run the action on one, then on both
    one = run_action(
        admin_client, "admin:subscribers_subscriber_changelist", "preview_digest", [first.pk]
    )
    both = run_action(
        admin_client,
        "admin:subscribers_subscriber_changelist",
        "preview_digest",
        [first.pk, second.pk],
    )

    # then the first lands on the preview page; the second asks for one subscriber
    assert one.redirect_chain[-1][0] == reverse(
        "admin:subscribers_subscriber_preview", args=[first.pk]
    )
    assert messages_of(both) == ["Choose exactly one subscriber."]


# Magic link, suppression


@pytest.mark.django_db
def test_resend_a_magic_link_mails_active_subscribers_only(admin_client: Client) -> None:
    # given an active and an unsubscribed subscriber
    active = make_subscriber(email="ada@example.org")
    gone = make_subscriber(email="bob@example.org", status=Subscriber.Status.UNSUBSCRIBED)

    # when staff resend the link to both
    response = run_action(
        admin_client,
        "admin:subscribers_subscriber_changelist",
        "resend_signin_link",
        [active.pk, gone.pk],
    )

    # then one sign-in e-mail went to the active one, and staff are told about the other
    assert [message.to for message in mail.outbox] == [["ada@example.org"]]
    assert "/signin/" in mail.outbox[0].body
    assert messages_of(response) == [
        "Sign-in link sent to ada@example.org.",
        "Not sent to bob@example.org: unsubscribed subscribers cannot sign in.",
    ]


@pytest.mark.django_db
def test_suppress_then_unsuppress(admin_client: Client) -> None:
    # given a confirmed active subscriber and a pending one
    confirmed = make_subscriber(confirmed_at=timezone.now())
    pending = make_subscriber(status=Subscriber.Status.PENDING)
    url = "admin:subscribers_subscriber_changelist"

    # when staff suppress both, then unsuppress both
    suppressed = run_action(admin_client, url, "suppress", [confirmed.pk, pending.pk])
    statuses_suppressed = set(Subscriber.objects.values_list("status", flat=True))
    run_action(admin_client, url, "unsuppress", [confirmed.pk, pending.pk])

    # then both were suppressed, and unsuppressing makes the confirmed one active again and
    # leaves the other waiting for confirmation
    assert messages_of(suppressed) == ["2 subscribers suppressed."]
    assert statuses_suppressed == {Subscriber.Status.SUPPRESSED}
    confirmed.refresh_from_db()
    pending.refresh_from_db()
    assert (confirmed.status, pending.status) == (
        Subscriber.Status.ACTIVE,
        Subscriber.Status.PENDING,
    )


# Retry a delivery


@pytest.mark.django_db
def test_retry_queues_a_failed_delivery_and_sends_it_after_commit(
    admin_client: Client, send_queue: list[int], django_capture_on_commit_callbacks
) -> None:
    # given a delivery refused for good, the address since fixed
    delivery = failed_delivery()

    # when staff retry it
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = run_action(
            admin_client, "admin:digests_delivery_changelist", "retry", [delivery.pk]
        )
        queued_before_commit = list(send_queue)
    for callback in callbacks:
        callback()

    # then it is queued again with its attempts kept and the old error noted, and the send
    # is enqueued once, only when the change is committed
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.QUEUED, 2)
    assert delivery.last_error.startswith("retried by admin at ")
    assert delivery.last_error.endswith("; before: recipient refused")
    assert queued_before_commit == []
    assert send_queue == [delivery.digest_id]
    assert messages_of(response) == ["1 deliveries queued again; they are sent now."]


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Delivery.Status.SENT, Delivery.Status.SENDING])
def test_retry_refuses_a_delivery_that_may_have_gone_out(
    admin_client: Client, send_queue: list[int], django_capture_on_commit_callbacks, status: str
) -> None:
    # given a sent delivery, or one the ESP never answered for
    delivery = make_delivery(status=status, attempts=1)

    # when staff retry it
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(
            admin_client, "admin:digests_delivery_changelist", "retry", [delivery.pk]
        )

    # then nothing changes, nothing is sent, and staff are told why
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (status, 1)
    assert send_queue == []
    [message] = messages_of(response)
    assert message.startswith("Not retried: ")
    assert "only a failed or bounced delivery is retried" in message


@pytest.mark.django_db
def test_retry_refuses_while_the_subscriber_is_suppressed(
    admin_client: Client, send_queue: list[int], django_capture_on_commit_callbacks
) -> None:
    # given a failed delivery to a suppressed address
    delivery = failed_delivery(status=Subscriber.Status.SUPPRESSED)

    # when staff retry it
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(
            admin_client, "admin:digests_delivery_changelist", "retry", [delivery.pk]
        )

    # then it stays failed, and staff are told to unsuppress first
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert send_queue == []
    assert "make the subscriber active first" in messages_of(response)[0]


@pytest.mark.django_db
def test_a_retried_delivery_really_goes_out_to_the_fixed_address(
    admin_client: Client, django_capture_on_commit_callbacks, eager_celery: None
) -> None:
    # given a failed delivery whose subscriber's address staff have just fixed, and Celery
    # running tasks in this process
    delivery = failed_delivery(email="typo@exmaple.org")
    Subscriber.objects.filter(pk=delivery.digest.subscriber_id).update(email="ada@example.org")

    # when staff retry it and the change is committed
    with django_capture_on_commit_callbacks(execute=True):
        run_action(admin_client, "admin:digests_delivery_changelist", "retry", [delivery.pk])

    # then the digest went out once, to the fixed address, and the delivery is sent
    delivery.refresh_from_db()
    assert [message.to for message in mail.outbox] == [["ada@example.org"]]
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 3)


# Pages that show related rows


@pytest.mark.django_db
def test_a_paper_shows_its_readings_and_the_digests_that_carried_it(
    admin_client: Client, django_assert_num_queries
) -> None:
    # given a paper read in two languages and carried by two digests
    paper = make_paper(title="Trust-region on-policy distillation")
    make_enrichment(paper=paper, language="zh", summary="一句话总结")
    make_enrichment(paper=paper, language="en", summary="One sentence.")
    for email in ("ada@example.org", "bob@example.org"):
        make_digest_item(digest=make_digest(subscriber=make_subscriber(email=email)), paper=paper)
    url = reverse("admin:digests_paper_change", args=[paper.pk])

    # when staff open the paper, then again once it was carried by ten more digests
    response = admin_client.get(url)
    with django_assert_num_queries(PAPER_PAGE_QUERIES) as few:
        admin_client.get(url)
    for _ in range(10):
        make_digest_item(digest=make_digest(), paper=paper)
    with django_assert_num_queries(PAPER_PAGE_QUERIES) as many:
        admin_client.get(url)

    # then both readings and both digests are shown, for a cost that does not grow with them
    assert "一句话总结" in response.text and "One sentence." in response.text
    assert "ada@example.org" in response.text and "bob@example.org" in response.text
    assert len(many) == len(few)


@pytest.mark.django_db
def test_a_subscriber_shows_their_digests_and_deliveries(
    admin_client: Client, django_assert_num_queries
) -> None:
    # given a subscriber with a sent digest and a failed one
    subscriber = make_subscriber(email="ada@example.org", keywords=["distillation"])
    sent = make_digest(subscriber=subscriber, issue_date=DAY)
    make_digest_item(digest=sent)
    make_delivery(digest=sent, status=Delivery.Status.SENT, attempts=1)
    failed = make_digest(subscriber=subscriber, issue_date=DAY - dt.timedelta(days=1))
    make_delivery(digest=failed, status=Delivery.Status.FAILED, last_error="mailbox unknown")
    url = reverse("admin:subscribers_subscriber_change", args=[subscriber.pk])

    # when staff open the subscriber, then again with ten more digests
    response = admin_client.get(url)
    with django_assert_num_queries(SUBSCRIBER_PAGE_QUERIES) as few:
        admin_client.get(url)
    for n in range(2, 12):
        make_delivery(digest=make_digest(subscriber=subscriber, issue_date=DAY - dt.timedelta(n)))

    with django_assert_num_queries(SUBSCRIBER_PAGE_QUERIES) as many:
        admin_client.get(url)

    # then the profile, both digests and their deliveries are shown, at a constant cost
    assert "distillation" in response.text
    assert "2026-06-18" in response.text and "2026-06-17" in response.text
    assert "mailbox unknown" in response.text
    assert len(many) == len(few)


@pytest.mark.django_db
def test_papers_are_filtered_by_any_of_their_categories(admin_client: Client) -> None:
    # given a paper in cs.CL cross-listed to cs.LG, and one in cs.CV
    cross = make_paper(categories=["cs.CL", "cs.LG"])
    make_paper(categories=["cs.CV"])
    make_paper(categories=["cs.LG"])

    # when staff filter the list by cs.LG
    response = admin_client.get(reverse("admin:digests_paper_changelist"), {"category": "cs.LG"})

    # then both papers listed in cs.LG are shown
    found = set(response.context["cl"].result_list)
    assert cross in found and len(found) == 2
    assert Paper.objects.count() == 3
