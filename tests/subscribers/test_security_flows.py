"""The reader's side attacked (issue 17): each test tries one attack and asserts it fails."""

from __future__ import annotations

import datetime as dt
import importlib
import io

import pytest
from anymail.exceptions import AnymailAPIError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter.beat import BEAT_SCHEDULE
from newsletter.celery import app
from subscribers.addresses import email_normalise
from subscribers.mail import MAIL_RETRIES
from subscribers.models import HeldSignup, InterestProfile, Subscriber
from subscribers.mydata import subscriber_export
from subscribers.tasks import (
    email_change_mail_deliver,
    signin_link_deliver,
    signup_mail_deliver,
    signup_record,
)
from subscribers.tokens import confirm_token, signin_token, unsubscribe_token
from tests.factories import make_subscriber
from tests.outbox import mail_path, outbox_mails

SIGNUP = "/subscribe/"
Status = Subscriber.Status


def _form(address: str, **fields: str) -> dict[str, str]:
    data = {
        "email": address,
        "language": "en",
        "keywords": "GRPO",
        "timezone": "UTC",
        "delivery_time": "08:00",
        "frequency": "daily",
        "website": "",
    }
    data.update(fields)
    return data


def _signed_in(client: Client, subscriber: Subscriber) -> Client:
    client.post(f"/signin/{signin_token(subscriber_id=subscriber.pk, email=subscriber.email)}/")
    return client


def _unsubscribe_link(subscriber: Subscriber) -> str:
    return f"/u/{unsubscribe_token(subscriber_id=subscriber.pk, email=subscriber.email)}/"


# Replayed confirmation links.


@pytest.mark.django_db
def test_a_used_confirmation_link_replayed_after_unsubscribing_is_dead(client, outbox_dir):
    # given a reader who confirmed with their link, then unsubscribed
    client.post(SIGNUP, _form("ada@example.org"))
    link = mail_path(outbox_mails(outbox_dir)[0], r"/confirm/[^/\s]+/")
    client.post(link)
    reader = Subscriber.objects.get()
    Client().post(_unsubscribe_link(reader))

    # when someone replays the old link, from another browser
    attacker = Client()
    page, pressed = attacker.get(link), attacker.post(link)

    # then it is not valid: nothing reactivates and nobody is signed in
    assert page.status_code == pressed.status_code == 400
    assert Subscriber.objects.get().status == Status.UNSUBSCRIBED
    assert attacker.get("/profile/")["Location"] == "/signin/"
    assert attacker.get("/my-data/")["Location"] == "/signin/"


@pytest.mark.django_db
def test_a_confirmation_link_never_used_dies_when_the_reader_unsubscribes(client):
    reader = make_subscriber(status=Status.PENDING)
    token = confirm_token(subscriber_id=reader.pk, email=reader.email)
    client.post(_unsubscribe_link(reader))

    response = Client().post(f"/confirm/{token}/")

    assert response.status_code == 400
    assert Subscriber.objects.get().status == Status.UNSUBSCRIBED


@pytest.mark.django_db
def test_a_fresh_confirmation_after_unsubscribing_still_brings_the_reader_back(client, outbox_dir):
    reader = make_subscriber(email="ada@example.org")
    Client().post(_unsubscribe_link(reader))

    client.post(SIGNUP, _form("ada@example.org"))
    response = client.post(mail_path(outbox_mails(outbox_dir)[-1], r"/confirm/[^/\s]+/"))

    assert response["Location"] == "/profile/"
    assert Subscriber.objects.get().status == Status.ACTIVE


# Unsubscribe links bound to the address.


@pytest.mark.django_db
def test_an_old_unsubscribe_link_after_a_change_of_address_neither_shows_nor_acts(
    client, outbox_dir
):
    # given a reader's unsubscribe link, then a change of address through the real flow
    reader = make_subscriber(email="old@example.org")
    old_link = _unsubscribe_link(reader)
    _signed_in(client, reader).post("/profile/email/", {"email": "new@example.org"})
    client.post(mail_path(outbox_mails(outbox_dir)[-1], r"/email/confirm/[^/\s]+/"))
    assert Subscriber.objects.get().email == "new@example.org"

    # when the old link is opened, posted, one-click posted and used to resubscribe
    stranger = Client()
    answers = [
        stranger.get(old_link),
        stranger.post(old_link),
        stranger.post(old_link, {"List-Unsubscribe": "One-Click"}),
        stranger.get(old_link + "resubscribe/"),
    ]

    # then each is refused, never naming the new address, and the reader stays subscribed
    assert [a.status_code for a in answers] == [400] * 4
    assert not [a for a in answers if b"new@example.org" in a.content]
    assert Subscriber.objects.get().status == Status.ACTIVE
    # while the link mailed to the new address works
    reader.refresh_from_db()
    assert b"new@example.org" in stranger.get(_unsubscribe_link(reader)).content


@pytest.mark.django_db
def test_a_link_made_before_links_named_an_address_unsubscribes_but_shows_no_address(client):
    from django.core import signing

    reader = make_subscriber(email="ada@example.org")
    legacy = signing.dumps(reader.pk, salt="subscribers.unsubscribe", compress=True)

    page = client.get(f"/u/{legacy}/")
    done = client.post(f"/u/{legacy}/")

    assert page.status_code == 200 and b"ada@example.org" not in page.content
    assert done.status_code == 200 and b"ada@example.org" not in done.content
    assert Subscriber.objects.get().status == Status.UNSUBSCRIBED
    assert client.post(f"/u/{legacy}/resubscribe/").status_code == 400


# The same work for every sign-in address.


@pytest.mark.django_db
def test_sign_in_does_the_same_work_for_unknown_suppressed_left_and_active_addresses(
    client, monkeypatch
):
    # given one address in each state (and one nobody has)
    for status in Status.values:
        make_subscriber(email=f"{status}@example.org", status=status)
    queued: list[tuple[str, ...]] = []
    monkeypatch.setattr(signin_link_deliver, "delay", lambda *args: queued.append(args))

    # when each asks for a link, from its own IP
    work = {}
    for n, name in enumerate([*Status.values, "nobody"]):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                "/signin/", {"email": f"{name}@example.org"}, REMOTE_ADDR=f"10.1.0.{n}"
            )
        work[name] = (response.status_code, len(queries), response.content.count(b"@"))

    # then every answer costs the same queries and queues the same task: none looks up the address
    assert len(set(work.values())) == 1, work
    assert work["nobody"][1] == 0
    assert queued == [(f"{name}@example.org",) for name in [*Status.values, "nobody"]]


@pytest.mark.django_db
def test_sign_up_does_the_same_work_whatever_the_address(client, monkeypatch):
    for status in Status.values:
        make_subscriber(email=f"{status}@example.org", status=status)
    queued: list[tuple] = []
    monkeypatch.setattr(signup_record, "delay", lambda *args: queued.append(args))

    work = {}
    for n, name in enumerate([*Status.values, "nobody"]):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(SIGNUP, _form(f"{name}@example.org"), REMOTE_ADDR=f"10.4.0.{n}")
        work[name] = (response.status_code, len(queries))

    # then no address is looked up in the request: the task, queued for each, does it
    assert set(work.values()) == {(200, work["nobody"][1])}, work
    assert [args[0] for args in queued] == [f"{name}@example.org" for name in work]
    assert Subscriber.objects.count() == len(Status.values)


# One spelling per mailbox.


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ('"victim"@example.org', "victim@example.org"),
        ("Victim@EXAMPLE.ORG", "Victim@example.org"),
        ("ada@bücher.example", "ada@xn--bcher-kva.example"),
        ("ada@BÜCHER.example", "ada@xn--bcher-kva.example"),
        ('"victim"@Exämple.ORG', "victim@xn--exmple-cua.org"),
        ('"a b"@example.org', '"a b"@example.org'),  # the quotes are needed: kept
        ("reader@LOCALHOST", "reader@localhost"),  # refused by email-validator, still lowered
    ],
)
def test_addresses_are_spelled_one_way(typed, stored):
    assert email_normalise(typed) == stored
    assert email_normalise(stored) == stored


@pytest.mark.django_db
def test_quoted_and_idn_spellings_reach_the_one_existing_row(client, outbox_dir):
    # given a reader at an IDN domain and one with a plain address
    make_subscriber(email="victim@example.org")
    make_subscriber(email="ada@xn--bcher-kva.example")

    # when others sign up with other spellings of the same mailboxes
    for n, spelling in enumerate(['"victim"@Example.ORG', "ada@BÜCHER.example"]):
        client.post(SIGNUP, _form(spelling), REMOTE_ADDR=f"10.2.0.{n}")

    # then no new row, and each mail went to the stored address (a manage link, not a confirm)
    assert Subscriber.objects.count() == 2
    assert sorted(m["To"] for m in outbox_mails(outbox_dir)) == [
        "ada@xn--bcher-kva.example",
        "victim@example.org",
    ]


@pytest.mark.django_db
def test_the_per_address_limit_counts_every_spelling_of_a_mailbox(client, outbox_dir):
    spellings = ['"ada"@example.org', "ada@EXAMPLE.org", "ada@example.org", '"ada"@Example.Org']

    for n, spelling in enumerate(spellings):
        client.post(SIGNUP, _form(spelling), REMOTE_ADDR=f"10.3.0.{n}")

    # SIGNUP_PER_ADDRESS: three an hour, whatever spelling
    assert len(outbox_mails(outbox_dir)) == 3
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["ada@example.org"]


@pytest.mark.django_db
def test_the_migration_respells_stored_addresses_and_leaves_a_clash_to_staff():
    from django.apps import apps

    migration = importlib.import_module("subscribers.migrations.0008_normalise_emails")
    quoted = make_subscriber(email='"bob"@Example.ORG')
    idn = make_subscriber(email="ada@Bücher.example")
    clash = make_subscriber(email='"eve"@example.org')
    kept = make_subscriber(email="eve@example.org")

    migration.forwards(apps, None)

    emails = dict(Subscriber.objects.values_list("pk", "email"))
    assert emails[quoted.pk] == "bob@example.org"
    assert emails[idn.pk] == "ada@xn--bcher-kva.example"
    assert (emails[clash.pk], emails[kept.pk]) == ('"eve"@example.org', "eve@example.org")


# An anonymous sign-up never overwrites a profile.


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.PENDING, Status.UNSUBSCRIBED])
def test_a_stranger_signing_up_someones_address_changes_nothing_of_theirs(
    client, outbox_dir, status
):
    # given someone pending or unsubscribed, with their own profile and confirmation link
    victim = make_subscriber(email="ada@example.org", status=status, keywords=["mine"])
    own_link = f"/confirm/{confirm_token(subscriber_id=victim.pk, email=victim.email)}/"

    # when a stranger signs up that address with their own choices
    client.post(SIGNUP, _form("ada@example.org", keywords="spam", language="zh"))

    # then the profile is untouched, the choices held aside (and in the victim's download)
    victim.refresh_from_db()
    assert (victim.language, victim.status) == ("en", status)
    assert InterestProfile.objects.get(subscriber=victim).keywords == ["mine"]
    [held] = subscriber_export(subscriber=victim)["held_sign_ups"]
    assert (held["profile"]["keywords"], held["settings"]["language"]) == (["spam"], "zh")
    # and when the victim uses their own link, they get their own profile, and the held one goes
    if status == Status.PENDING:
        Client().post(own_link)
        victim.refresh_from_db()
        assert victim.status == Status.ACTIVE
        assert InterestProfile.objects.get(subscriber=victim).keywords == ["mine"]
        assert not HeldSignup.objects.exists()


@pytest.mark.django_db
def test_a_held_sign_up_is_applied_only_by_its_own_link(client, outbox_dir):
    make_subscriber(email="ada@example.org", status=Status.UNSUBSCRIBED, keywords=["mine"])
    client.post(SIGNUP, _form("ada@example.org", keywords="diffusion", language="zh"))
    [mail] = outbox_mails(outbox_dir)

    Client().post(mail_path(mail, r"/confirm/[^/\s]+/"))

    reader = Subscriber.objects.get()
    assert (reader.status, reader.language) == (Status.ACTIVE, "zh")
    assert reader.profile.keywords == ["diffusion"]


@pytest.mark.django_db
def test_signing_up_an_active_address_holds_nothing_and_changes_nothing(client):
    reader = make_subscriber(email="ada@example.org", keywords=["mine"])

    client.post(SIGNUP, _form("ada@example.org", keywords="spam"))

    assert InterestProfile.objects.get(subscriber=reader).keywords == ["mine"]
    assert not HeldSignup.objects.exists()


# The ESP down: the page answers, the mail is not lost.


@pytest.fixture
def worker_like():
    """Tasks applied here retry as a worker's do (each retry run at once, its wait skipped) and
    end with a result, instead of raising the first error into the test."""
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


@pytest.mark.django_db
def test_sign_in_answers_while_the_esp_is_down_and_the_link_goes_out_when_it_is_back(
    client, esp, monkeypatch, worker_like
):
    # given an ESP answering 503 twice, and a queue that holds tasks as a broker would
    make_subscriber(email="ada@example.org")
    esp.plan("status", status=503, times=2)
    queued: list[tuple[str, ...]] = []
    monkeypatch.setattr(signin_link_deliver, "delay", lambda *args: queued.append(args))

    # when the reader asks for a link
    response = client.post("/signin/", {"email": "ada@example.org"})

    # then the page answers at once, and the task, run by a worker, retries until it is sent
    assert response.status_code == 200 and esp.requests == []
    signin_link_deliver.apply(args=queued[0])
    assert [r["status"] for r in esp.requests] == [503, 503, 200]
    [message] = esp.messages
    assert message["To"] == "ada@example.org" and "/signin/" in message["TextBody"]


@pytest.mark.django_db
def test_sign_up_answers_while_the_esp_is_down_and_the_confirmation_goes_out_later(
    client, esp, monkeypatch, worker_like
):
    esp.plan("status", status=500, times=3)
    queued: list[tuple] = []
    monkeypatch.setattr(signup_mail_deliver, "delay", lambda *args: queued.append(args))

    response = client.post(SIGNUP, _form("ada@example.org"))

    assert response.status_code == 200 and esp.requests == []
    signup_mail_deliver.apply(args=queued[0])
    assert [r["status"] for r in esp.requests] == [500, 500, 500, 200]
    assert "/confirm/" in esp.messages[0]["TextBody"]


@pytest.mark.django_db
def test_a_change_of_address_answers_while_the_esp_is_down(client, esp, monkeypatch, worker_like):
    reader = make_subscriber(email="ada@example.org")
    esp.plan("status", status=502, times=2)
    queued: list[tuple] = []
    monkeypatch.setattr(email_change_mail_deliver, "delay", lambda *args: queued.append(args))

    response = _signed_in(client, reader).post("/profile/email/", {"email": "new@example.org"})

    assert response.status_code == 200 and esp.requests == []
    email_change_mail_deliver.apply(args=queued[0])
    assert [r["status"] for r in esp.requests] == [502, 502, 200]
    assert esp.messages[0]["To"] == "new@example.org"


@pytest.mark.django_db
def test_a_mail_the_esp_refuses_for_good_is_not_retried(esp, worker_like):
    make_subscriber(email="ada@example.org")
    esp.plan("status", status=422)

    signin_link_deliver.apply(args=["ada@example.org"])

    assert [r["status"] for r in esp.requests] == [422]
    assert esp.messages == []


@pytest.mark.django_db
def test_an_esp_that_cannot_be_reached_is_tried_again_then_given_up(
    settings, monkeypatch, worker_like
):
    # given an ESP address where nothing listens
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "t",
        "POSTMARK_API_URL": f"http://127.0.0.1:{port}/",
    }
    make_subscriber(email="ada@example.org")
    tries: list[int] = []

    def no_wait(retries: int) -> float:
        tries.append(retries)
        return 0.0

    monkeypatch.setattr("subscribers.tasks.mail_retry_delay", no_wait)

    # when the task runs (as a worker would, retries included)
    result = signin_link_deliver.apply(args=["ada@example.org"])

    # then it failed only after every retry, each with its backoff
    assert result.state == "FAILURE" and isinstance(result.result, AnymailAPIError)
    assert result.result.status_code is None  # no answer at all: a connection error
    assert tries == list(range(MAIL_RETRIES))


# Unconfirmed sign-ups purged.


@pytest.mark.django_db
def test_unconfirmed_sign_ups_are_purged_after_the_set_number_of_days(settings):
    # given sign-ups of several ages and states, and held sign-ups
    now = timezone.now()
    old = make_subscriber(status=Status.PENDING, created_at=now - dt.timedelta(days=8))
    young = make_subscriber(status=Status.PENDING, created_at=now - dt.timedelta(days=6))
    active = make_subscriber(created_at=now - dt.timedelta(days=90))
    left = make_subscriber(status=Status.UNSUBSCRIBED, created_at=now - dt.timedelta(days=90))
    HeldSignup.objects.create(subscriber=left, created_at=now - dt.timedelta(days=4))
    fresh = HeldSignup.objects.create(subscriber=left, created_at=now - dt.timedelta(days=1))

    # when the command runs, twice
    first, second = io.StringIO(), io.StringIO()
    call_command("purge_unconfirmed", stderr=first)
    call_command("purge_unconfirmed", stderr=second)

    # then only the old pending one and the expired held one are gone, and each run says so
    assert set(Subscriber.objects.all()) == {young, active, left}
    assert list(HeldSignup.objects.all()) == [fresh]
    assert not Subscriber.objects.filter(pk=old.pk).exists()
    assert (
        first.getvalue()
        .strip()
        .endswith("purged 1 unconfirmed sign-ups older than 7 days and 1 expired held sign-ups")
    )
    assert "purged 0 unconfirmed sign-ups" in second.getvalue()
    # and the daily task follows UNCONFIRMED_PURGE_DAYS
    settings.UNCONFIRMED_PURGE_DAYS = 5
    app.tasks[BEAT_SCHEDULE["purge-unconfirmed-sign-ups"]["task"]].delay()
    assert set(Subscriber.objects.all()) == {active, left}


@pytest.mark.django_db
def test_the_purge_command_refuses_a_nonsense_age():
    with pytest.raises(CommandError, match="--days must be at least 1"):
        call_command("purge_unconfirmed", "--days", "0")


# Pages reached by a token are never stored.


@pytest.mark.django_db
def test_every_page_reached_by_a_token_says_no_store(client):
    reader = make_subscriber(email="ada@example.org")
    confirm = f"/confirm/{confirm_token(subscriber_id=reader.pk, email=reader.email)}/"
    signin = f"/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/"
    unsubscribe = _unsubscribe_link(reader)
    answers = {
        "confirm": client.get(confirm),
        "confirm (bad)": client.get("/confirm/nonsense/"),
        "sign-in landing": client.get(signin),
        "unsubscribe": client.get(unsubscribe),
        "resubscribe": client.get(unsubscribe + "resubscribe/"),
    }
    _signed_in(client, reader)
    answers |= {
        "profile": client.get("/profile/"),
        "my data": client.get("/my-data/"),
        "export": client.get("/my-data/export.json"),
        "unsubscribe (post)": client.post(unsubscribe),
    }

    missing = [name for name, r in answers.items() if "no-store" not in r.get("Cache-Control", "")]
    assert missing == []


# A reader who left signs in for their data, and nothing else.


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.UNSUBSCRIBED, Status.SUPPRESSED])
def test_a_reader_who_left_can_export_and_delete_but_not_edit_or_come_back(client, status):
    # given a reader who left, signed in with a link asked for after they left
    reader = make_subscriber(email="ada@example.org", status=status, keywords=["mine"])
    landed = client.post(f"/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/")
    assert landed["Location"] == "/my-data/"

    # when they try every page of a full session
    page = client.get("/my-data/")
    attempts = [
        client.get("/profile/"),
        client.post("/profile/", {"language": "zh", "keywords": "spam"}),
        client.post("/profile/preview/", {"language": "zh"}),
        client.post("/profile/email/", {"email": "other@example.org"}),
        client.post("/my-data/feed/", {"action": "rotate"}),
        client.post("/profile/categories/", {"category": "cs.CL", "action": "confirm"}),
    ]

    # then the data page shows no feed, each attempt is sent to it, and nothing changed
    assert b'id="data-only"' in page.content and b'id="feed"' not in page.content
    assert {a["Location"] for a in attempts} == {"/my-data/"}
    reader.refresh_from_db()
    assert (reader.status, reader.language, reader.feed_key) == (status, "en", None)
    assert reader.profile.keywords == ["mine"]
    # and the download and the deletion work
    export = client.get("/my-data/export.json")
    assert export.status_code == 200 and b'"ada@example.org"' in export.content
    client.post("/my-data/delete/", {"confirm": "on"})
    assert not Subscriber.objects.exists()


@pytest.mark.django_db
def test_a_sign_in_link_sent_before_unsubscribing_signs_nobody_in(client):
    reader = make_subscriber(email="ada@example.org")
    before = f"/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/"
    Client().post(_unsubscribe_link(reader))

    response = client.post(before)

    assert b'id="expired"' in response.content
    assert client.get("/my-data/")["Location"] == "/signin/"
