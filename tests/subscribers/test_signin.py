"""Magic-link sign-in: the same answer for every address, a button behind the link, one use."""

from __future__ import annotations

import email.message
import logging
import re
import time

import pytest
from django.test import Client

from newsletter.logs import TokenScrubber
from subscribers.models import Subscriber
from subscribers.tokens import SIGNIN_LINK_AGE, signin_token, unsubscribe_token
from tests.factories import make_subscriber
from tests.outbox import outbox_mails

LINK = re.compile(r"http://\S+/signin/([^/\s]+)/")


def _link(message: email.message.EmailMessage) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return "/signin/" + LINK.search(text).group(1) + "/"


def _signed_in(client: Client) -> bool:
    return client.get("/profile/").status_code == 200


@pytest.mark.django_db
def test_the_mailed_link_signs_in_on_the_button_not_on_the_get(client, outbox_dir):
    # given a subscriber
    make_subscriber(email="ada@example.org")

    # when they ask for a link
    response = client.post("/signin/", {"email": "ada@example.org"})

    # then the answer says to check the inbox, and one mail holds the link, in both parts
    assert response.status_code == 200
    assert b'id="check-inbox"' in response.content
    [mail] = outbox_mails(outbox_dir)
    assert mail["To"] == "ada@example.org"
    assert mail["Subject"] == "Your sign-in link for arXiv Digest"
    link = _link(mail)
    assert link in mail.get_body(preferencelist=("html",)).get_content()

    # when the link is opened (as a mail scanner would)
    page = client.get(link)

    # then a page with one button, and nobody is signed in yet
    assert page.status_code == 200
    assert b'id="signin"' in page.content
    assert not _signed_in(client)

    # when the button is pressed
    done = client.post(link)

    # then the reader is signed in and sent to their profile: no token in the address bar
    assert done.status_code == 302 and done["Location"] == "/profile/"
    assert _signed_in(client)


@pytest.mark.django_db
def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, outbox_dir):
    # given one known address
    make_subscriber(email="known@example.org")

    # when a known and an unknown address ask for a link
    known = client.post("/signin/", {"email": "known@example.org"})
    unknown = client.post("/signin/", {"email": "nobody@example.org"})

    # then the pages are the same but for the address, and only the known one gets mail
    assert known.status_code == unknown.status_code == 200
    assert known.content.replace(b"known@", b"X@") == unknown.content.replace(b"nobody@", b"X@")
    assert [mail["To"] for mail in outbox_mails(outbox_dir)] == ["known@example.org"]


@pytest.mark.django_db
def test_the_address_is_matched_whatever_its_case(client, outbox_dir):
    make_subscriber(email="Mixed.Case@Example.org")

    client.post("/signin/", {"email": "mixed.case@example.ORG"})

    assert [mail["To"] for mail in outbox_mails(outbox_dir)] == ["Mixed.Case@Example.org"]


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["unsubscribed", "suppressed"])
def test_a_reader_who_left_gets_a_link_to_their_data_only(client, outbox_dir, status):
    # given a reader who left
    reader = make_subscriber(email="gone@example.org", status=status)

    # when they ask for a link and use it
    response = client.post("/signin/", {"email": "gone@example.org"})
    [mail] = outbox_mails(outbox_dir)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    landed = client.post(_link(mail))

    # then the same answer as anyone, a mail that says what the link opens, and their data page
    assert b'id="check-inbox"' in response.content
    assert "download or delete" in text
    assert landed["Location"] == "/my-data/"
    assert client.get("/my-data/").status_code == 200
    assert client.get("/my-data/export.json").status_code == 200
    # and nothing else: no profile, and their status is unchanged
    assert client.get("/profile/")["Location"] == "/my-data/"
    assert Subscriber.objects.get(pk=reader.pk).status == status


@pytest.mark.django_db
def test_a_pending_subscriber_may_sign_in(client, outbox_dir):
    make_subscriber(email="new@example.org", status=Subscriber.Status.PENDING)

    client.post("/signin/", {"email": "new@example.org"})

    assert len(outbox_mails(outbox_dir)) == 1


@pytest.mark.django_db
def test_a_filled_bot_trap_gets_the_same_answer_and_no_mail(client, outbox_dir):
    make_subscriber(email="ada@example.org")

    response = client.post("/signin/", {"email": "ada@example.org", "website": "http://spam"})

    assert b'id="check-inbox"' in response.content
    assert outbox_mails(outbox_dir) == []


@pytest.mark.django_db
def test_a_malformed_address_is_shown_the_form_again(client, outbox_dir):
    response = client.post("/signin/", {"email": "not an address"})

    assert response.status_code == 200
    assert b'id="send-link"' in response.content
    assert b"Enter a valid email address." in response.content


@pytest.mark.django_db
def test_the_form_needs_its_csrf_token(outbox_dir):
    make_subscriber(email="ada@example.org")
    client = Client(enforce_csrf_checks=True)

    response = client.post("/signin/", {"email": "ada@example.org"})

    assert response.status_code == 403
    assert outbox_mails(outbox_dir) == []


@pytest.mark.django_db
def test_one_ip_is_refused_after_twenty_requests_with_a_clear_message(client, outbox_dir):
    # when one IP asks for links to twenty-one addresses
    answers = [
        client.post("/signin/", {"email": f"reader{n}@example.org"}).status_code for n in range(21)
    ]

    # then the twenty-first is refused with a page that says why
    assert answers == [200] * 20 + [429]
    refused = client.post("/signin/", {"email": "one-more@example.org"})
    assert refused.status_code == 429
    assert b"Too many requests" in refused.content


@pytest.mark.django_db
def test_one_address_gets_at_most_five_links_an_hour(client, outbox_dir):
    # given a subscriber, asked for from five different IPs and then a sixth
    make_subscriber(email="ada@example.org")
    answers = [
        client.post("/signin/", {"email": "ada@example.org"}, REMOTE_ADDR=f"10.0.0.{n}").status_code
        for n in range(6)
    ]

    # then the sixth is refused and no sixth mail goes out
    assert answers == [200] * 5 + [429]
    assert len(outbox_mails(outbox_dir)) == 5


@pytest.mark.django_db
def test_a_link_signs_in_once(client, outbox_dir):
    # given a link used once
    reader = make_subscriber(email="ada@example.org")
    link = f"/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/"
    assert client.post(link).status_code == 302

    # when someone else uses it again
    other = Client()
    again = other.post(link)

    # then the link is spent: a clear page, and nobody is signed in
    assert again.status_code == 200
    assert b'id="expired"' in again.content
    assert not _signed_in(other)


@pytest.mark.django_db
def test_using_a_link_spends_the_links_sent_before_it(client):
    reader = make_subscriber(email="ada@example.org")
    older = signin_token(subscriber_id=reader.pk, email=reader.email)
    time.sleep(1.01)  # tokens carry whole seconds
    newer = signin_token(subscriber_id=reader.pk, email=reader.email)

    assert client.post(f"/signin/{newer}/").status_code == 302

    assert b'id="expired"' in Client().post(f"/signin/{older}/").content


@pytest.mark.django_db
def test_the_button_pressed_twice_keeps_the_reader_signed_in(client):
    reader = make_subscriber(email="ada@example.org")
    link = f"/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/"

    first, second = client.post(link), client.post(link)

    assert first["Location"] == second["Location"] == "/profile/"
    assert _signed_in(client)


@pytest.mark.django_db
def test_an_expired_link_gets_a_clear_page_and_changes_nothing(client, monkeypatch):
    # given a link sent longer ago than a link lives
    reader = make_subscriber(email="ada@example.org")
    sent = time.time() - SIGNIN_LINK_AGE - 5
    monkeypatch.setattr("django.core.signing.time.time", lambda: sent)
    token = signin_token(subscriber_id=reader.pk, email=reader.email)
    monkeypatch.undo()

    # when it is opened and its button pressed
    page, pressed = client.get(f"/signin/{token}/"), client.post(f"/signin/{token}/")

    # then a page inviting to ask for a new link; nobody signed in, nothing recorded
    for response in (page, pressed):
        assert response.status_code == 200
        assert b'id="expired"' in response.content
        assert b'href="/signin/"' in response.content
    assert not _signed_in(client)
    assert Subscriber.objects.get(pk=reader.pk).signin_used_at is None


@pytest.mark.django_db
def test_a_tampered_link_gets_a_clear_400_page_and_changes_nothing(client):
    reader = make_subscriber(email="ada@example.org")
    token = signin_token(subscriber_id=reader.pk, email=reader.email)

    response = client.post(f"/signin/{token[:-2]}xx/")

    assert response.status_code == 400
    assert b"This link is not valid" in response.content
    assert not _signed_in(client)
    assert Subscriber.objects.get(pk=reader.pk).signin_used_at is None


@pytest.mark.django_db
def test_a_link_dies_when_the_address_changes(client):
    # given a link mailed to the old address, then a change of address
    reader = make_subscriber(email="old@example.org")
    token = signin_token(subscriber_id=reader.pk, email=reader.email)
    Subscriber.objects.filter(pk=reader.pk).update(email="new@example.org")

    response = client.post(f"/signin/{token}/")

    assert b'id="expired"' in response.content
    assert not _signed_in(client)


@pytest.mark.django_db
def test_a_link_dies_when_the_reader_unsubscribes(client):
    reader = make_subscriber(email="ada@example.org")
    token = signin_token(subscriber_id=reader.pk, email=reader.email)
    client.post(f"/u/{unsubscribe_token(subscriber_id=reader.pk, email=reader.email)}/")

    response = client.post(f"/signin/{token}/")

    assert b'id="expired"' in response.content
    assert not _signed_in(client)


@pytest.mark.django_db
def test_unsubscribing_ends_the_session(client):
    reader = make_subscriber(email="ada@example.org")
    client.post(f"/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/")
    assert _signed_in(client)

    Client().post(f"/u/{unsubscribe_token(subscriber_id=reader.pk, email=reader.email)}/")

    assert not _signed_in(client)


@pytest.mark.django_db
def test_sign_out_is_a_post_and_ends_the_session(client):
    # given a signed-in reader
    reader = make_subscriber(email="ada@example.org")
    client.post(f"/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/")

    # when they open the sign-out address, then post to it
    opened = client.get("/signout/")
    assert opened.status_code == 405 and _signed_in(client)
    response = client.post("/signout/")

    # then they are signed out
    assert response.status_code == 200 and b'id="signed-out"' in response.content
    assert not _signed_in(client)


@pytest.mark.django_db
def test_sign_in_pages_are_not_cached(client):
    reader = make_subscriber(email="ada@example.org")
    token = signin_token(subscriber_id=reader.pk, email=reader.email)

    for response in (client.get("/signin/"), client.get(f"/signin/{token}/")):
        assert "no-store" in response["Cache-Control"]


# Tokens never reach the logs.


@pytest.mark.django_db
def test_spent_and_expired_links_are_answered_without_a_logged_path(client, caplog):
    reader = make_subscriber(email="ada@example.org")
    token = signin_token(subscriber_id=reader.pk, email=reader.email)
    Subscriber.objects.filter(pk=reader.pk).update(email="new@example.org")

    with caplog.at_level(logging.INFO, logger="django.request"):
        client.get(f"/signin/{token}/")

    assert [r for r in caplog.records if r.name == "django.request"] == []


@pytest.mark.django_db
def test_a_tampered_link_is_logged_without_its_token(client, caplog):
    # given Django's request logger, which logs the path of a 400, scrubbed as in settings
    reader = make_subscriber(email="ada@example.org")
    tampered = signin_token(subscriber_id=reader.pk, email=reader.email)[:-2] + "xx"
    caplog.handler.addFilter(TokenScrubber())

    # when a tampered link is posted
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.post(f"/signin/{tampered}/")

    # then the record names the page, not the token
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Bad Request: /signin/[token]/"
    assert tampered not in caplog.text


@pytest.mark.django_db
def test_a_replaced_feed_address_is_logged_without_its_key(client, caplog):
    caplog.handler.addFilter(TokenScrubber())

    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/feed/Qk1zX2V4YW1wbGVfa2V5X3RoYXRfaXNfbG9uZ19lbm91Z2g.atom")

    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Not Found: /feed/[token].atom"
