"""Sign-up with double opt-in: one answer whatever the address, rate limits, links that expire."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.test import Client

from subscribers.models import Subscriber
from subscribers.tokens import confirm_token
from tests.factories import make_subscriber, make_topic
from tests.outbox import mail_path, outbox_mails

SIGNUP = "/subscribe/"


def _form(address: str = "ada@example.org", **fields: str | list[str]) -> dict:
    data: dict = {
        "email": address,
        "language": "en",
        "keywords": "GRPO, on-policy distillation",
        "authors": "Yongjin Yang",
        "categories": "cs.CL\ncs.AI",
        "interests": "reinforcement learning for language models",
        "timezone": "Asia/Shanghai",
        "delivery_time": "07:30",
        "frequency": "daily",
        "website": "",
    }
    data.update(fields)
    return data


def _page(response) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)


@pytest.mark.django_db
def test_a_sign_up_creates_a_pending_profile_and_mails_a_confirmation(client, outbox_dir):
    # given a featured topic
    topic = make_topic(slug="post-training", featured=True)

    # when a visitor signs up
    response = client.post(SIGNUP, _form(topics=[str(topic.pk)], language="zh"))

    # then the page says to check the inbox, and a pending subscriber holds every field
    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    subscriber = Subscriber.objects.get(email="ada@example.org")
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.confirmed_at is None
    assert (subscriber.language, subscriber.timezone) == ("zh", "Asia/Shanghai")
    assert subscriber.delivery_time.isoformat() == "07:30:00"
    profile = subscriber.profile
    assert profile.keywords == ["GRPO", "on-policy distillation"]
    assert profile.authors == ["Yongjin Yang"]
    assert profile.categories == ["cs.CL", "cs.AI"]
    assert list(profile.topics.all()) == [topic]
    # and one mail went out, with a plain-text and an HTML part, both with the link
    [mail] = outbox_mails(outbox_dir)
    assert mail["To"] == "ada@example.org"
    assert mail.get_content_type() == "multipart/alternative"
    html = mail.get_body(preferencelist=("html",)).get_content()
    path = mail_path(mail, r"/confirm/[^/\s]+/")
    assert path in html


@pytest.mark.django_db
def test_the_confirmation_link_changes_nothing_on_get_and_confirms_on_post(client, outbox_dir):
    # given a sign-up and its mail
    client.post(SIGNUP, _form())
    [mail] = outbox_mails(outbox_dir)
    assert mail["Subject"] == "Confirm your arXiv Digest subscription"
    path = mail_path(mail, r"/confirm/[^/\s]+/")

    # when the link is opened (as a mail scanner would)
    page = client.get(path)

    # then a page with one button shows, and the subscriber is still pending
    assert page.status_code == 200
    assert b'id="confirm"' in page.content
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING

    # when the button is pressed
    response = client.post(path)

    # then the subscriber is active, confirmed, signed in and on their profile page
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.confirmed_at is not None
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    assert client.get("/profile/").status_code == 200


@pytest.mark.django_db
def test_every_address_gets_the_same_answer_page(client, outbox_dir):
    # given one address that is new, then pending, one active and one suppressed
    make_subscriber(email="active@example.org")
    make_subscriber(email="bounced@example.org", status=Subscriber.Status.SUPPRESSED)

    # when each is signed up (the new one twice)
    first = client.post(SIGNUP, _form("ada@example.org"))
    second = client.post(SIGNUP, _form("ada@example.org"))
    active = client.post(SIGNUP, _form("Active@example.org"))
    bounced = client.post(SIGNUP, _form("bounced@example.org"))

    # then the same address gets the byte-identical page, and every page has the same shape
    assert first.status_code == second.status_code == active.status_code == 200
    assert bounced.status_code == 200
    assert _page(first) == _page(second)
    assert _page(active).replace(b"Active@", b"ada@") == _page(first)
    assert _page(bounced).replace(b"bounced@", b"ada@") == _page(first)
    # and behind it: two confirmations, a manage link for the active reader, nothing for the bounced
    mails = outbox_mails(outbox_dir)
    assert [m["To"] for m in mails].count("ada@example.org") == 2
    [manage] = [m for m in mails if m["To"] == "active@example.org"]
    assert mail_path(manage, r"/signin/[^/\s]+/")
    assert "/confirm/" not in manage.get_body(preferencelist=("plain",)).get_content()
    assert not [m for m in mails if m["To"] == "bounced@example.org"]
    assert Subscriber.objects.filter(email__iexact="ada@example.org").count() == 1


@pytest.mark.django_db
def test_twenty_sign_ups_from_one_ip_are_refused_after_the_limit(client, outbox_dir):
    # when one address on the internet posts twenty sign-ups in a minute
    codes = []
    for n in range(20):
        response = client.post(SIGNUP, _form(f"bot{n}@example.org"), REMOTE_ADDR="203.0.113.9")
        codes.append(response.status_code)

    # then the first ten pass and the rest are refused with a clear message
    assert codes == [200] * 10 + [429] * 10
    assert b"Too many sign-ups came from your network" in response.content
    assert response["Retry-After"] == "60"
    assert Subscriber.objects.count() == 10
    assert len(outbox_mails(outbox_dir)) == 10
    # and another address on the internet is not affected
    assert (
        client.post(SIGNUP, _form("x@example.org"), REMOTE_ADDR="198.51.100.1").status_code == 200
    )


@pytest.mark.django_db
def test_one_address_gets_at_most_three_mails_an_hour_and_the_same_page(client, outbox_dir):
    # when the same address is signed up five times from five places
    pages = [
        client.post(SIGNUP, _form("ada@example.org"), REMOTE_ADDR=f"198.51.100.{n}")
        for n in range(5)
    ]

    # then every answer is the same page, and only three mails went out
    assert {p.status_code for p in pages} == {200}
    assert len({_page(p) for p in pages}) == 1
    assert len(outbox_mails(outbox_dir)) == 3


@pytest.mark.django_db
def test_a_bot_filling_the_honeypot_is_told_it_worked_and_nothing_happens(client, outbox_dir):
    # when the hidden field is filled in
    response = client.post(SIGNUP, _form(website="https://spam.example"))

    # then the answer looks like success, but nothing is stored or sent
    assert response.status_code == 200
    assert _page(response) == _page(client.post(SIGNUP, _form(website="x")))
    assert Subscriber.objects.count() == 0
    assert outbox_mails(outbox_dir) == []


@pytest.mark.django_db
def test_the_sign_up_page_hides_the_honeypot_and_detects_the_time_zone(client):
    # when the form is opened by a visitor whose browser prefers Chinese
    response = client.get(SIGNUP, HTTP_ACCEPT_LANGUAGE="zh-CN")

    # then the honeypot is in a hidden block, the time zone select is marked for detection,
    # the language defaults to the browser's, and nothing on the page is an inline style or script
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<div class="hp" aria-hidden="true">.*name="website"', html, re.S)
    assert re.search(r'<select name="timezone"[^>]*data-detect', html)
    assert re.search(r'<option value="zh" selected>', html)
    assert "style=" not in html
    assert "<script>" not in html
    assert response["Referrer-Policy"] == "same-origin"  # forms post with their Origin
    assert "CSRF" not in html  # the template's comment stays in the template
    assert '<script src="/static/site/profile.js" defer></script>' in html


@pytest.mark.django_db
def test_a_bad_form_is_shown_again_with_its_errors_and_nothing_stored(client, outbox_dir):
    # when the categories and time zone are not real ones
    response = client.post(SIGNUP, _form(categories="cs.CL, cs.XYZ", timezone="Mars/Olympus"))

    # then the form comes back with both errors, and nothing is stored or sent
    assert response.status_code == 400
    assert b"Unknown arXiv categories or bioRxiv/medRxiv subjects: cs.XYZ." in response.content
    assert b"Select a valid choice. Mars/Olympus" in response.content
    assert Subscriber.objects.count() == 0
    assert outbox_mails(outbox_dir) == []


@pytest.mark.django_db
def test_the_sign_up_form_needs_its_csrf_token(outbox_dir):
    # when a page elsewhere posts the form without our token
    response = Client(enforce_csrf_checks=True).post(SIGNUP, _form())

    # then it is refused
    assert response.status_code == 403
    assert Subscriber.objects.count() == 0


@pytest.mark.django_db
def test_a_tampered_link_gets_a_clear_page_and_changes_nothing(client):
    # given a pending subscriber and their link, altered
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    token = confirm_token(subscriber_id=subscriber.pk, email=subscriber.email)
    tampered = token[:-3] + ("aaa" if token[-3:] != "aaa" else "bbb")

    # when it is opened and posted
    page = client.get(f"/confirm/{tampered}/")
    posted = client.post(f"/confirm/{tampered}/")

    # then both say the link is not valid, and the subscriber is still pending
    assert page.status_code == posted.status_code == 400
    assert b"This link is not valid" in posted.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING


@pytest.mark.django_db
def test_an_expired_link_says_so_and_changes_nothing(client):
    # given a link mailed four days ago (they last three)
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    with mock.patch("time.time", return_value=time.time() - 4 * 24 * 3600):
        token = confirm_token(subscriber_id=subscriber.pk, email=subscriber.email)

    # when it is opened and posted
    page = client.get(f"/confirm/{token}/")
    posted = client.post(f"/confirm/{token}/")

    # then the page says it expired and offers to sign up again; nothing changed
    assert page.status_code == posted.status_code == 410
    assert b"This link has expired" in posted.content
    assert b'href="/subscribe/"' in posted.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING
    assert "subscriber" not in client.session


@pytest.mark.django_db
def test_a_link_for_an_old_address_is_not_valid(client):
    # given a confirmation link, then the subscriber's address changed
    subscriber = make_subscriber(status=Subscriber.Status.PENDING, email="old@example.org")
    token = confirm_token(subscriber_id=subscriber.pk, email=subscriber.email)
    Subscriber.objects.filter(pk=subscriber.pk).update(email="new@example.org")

    # when the old link is posted
    response = client.post(f"/confirm/{token}/")

    # then it is not valid
    assert response.status_code == 400
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


@pytest.mark.django_db
def test_a_reader_who_left_signs_up_again_and_is_back_on_confirming(client, outbox_dir):
    # given a reader who unsubscribed
    make_subscriber(
        email="ada@example.org", status=Subscriber.Status.UNSUBSCRIBED, keywords=["old"]
    )

    # when they sign up again, with new keywords
    client.post(SIGNUP, _form("ada@example.org", keywords="diffusion"))

    # then nothing changes yet (not even the profile), and their link says welcome back
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.profile.keywords == ["old"]
    [mail] = outbox_mails(outbox_dir)
    assert "again" in mail.get_body(preferencelist=("plain",)).get_content()
    # and confirming restores them, with the profile of the form that sent the link
    client.post(mail_path(mail, r"/confirm/[^/\s]+/"))
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.unsubscribed_at is None
    assert subscriber.profile.keywords == ["diffusion"]
    assert subscriber.timezone == "Asia/Shanghai"
    assert subscriber.delivery_time.isoformat() == "07:30:00"


@pytest.mark.django_db
def test_a_used_confirmation_link_confirms_nothing_more_and_signs_nobody_in(client, outbox_dir):
    # given a subscriber who confirmed with their link
    client.post(SIGNUP, _form())
    path = mail_path(outbox_mails(outbox_dir)[0], r"/confirm/[^/\s]+/")
    client.post(path)
    confirmed_at = Subscriber.objects.get().confirmed_at

    # when the same link is posted again from another browser
    stranger = Client()
    response = stranger.post(path)

    # then it says so, offers a sign-in link, and opens no session
    assert response.status_code == 200
    assert b"Already confirmed" in response.content
    assert b'href="/signin/"' in response.content
    assert stranger.get("/profile/")["Location"] == "/signin/"
    assert Subscriber.objects.get().confirmed_at == confirmed_at


@pytest.mark.django_db
def test_a_suppressed_address_cannot_be_confirmed(client):
    # given a link sent before the address bounced
    subscriber = make_subscriber(status=Subscriber.Status.SUPPRESSED)
    token = confirm_token(subscriber_id=subscriber.pk, email=subscriber.email)

    # when it is posted
    response = client.post(f"/confirm/{token}/")

    # then it is not valid, and the address stays suppressed
    assert response.status_code == 400
    assert Subscriber.objects.get().status == Subscriber.Status.SUPPRESSED
