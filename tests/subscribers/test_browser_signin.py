"""Magic-link sign-in and "your data" in headless Chromium, with the link read from the outbox."""

from __future__ import annotations

import email
import email.policy
import json
import re

import pytest

from subscribers.models import Subscriber
from subscribers.tokens import signin_token, unsubscribe_token
from tests.conftest import ARTIFACTS
from tests.factories import make_digest, make_digest_item, make_paper, make_subscriber


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_in_by_mailed_link_then_manage_the_feed_and_data(
    live_server, page, outbox_dir, settings
):
    # given a subscriber with a digest, and links in e-mails pointing at this server
    settings.SITE_URL = live_server.url
    reader = make_subscriber(email="ada@example.org")
    make_digest_item(digest=make_digest(subscriber=reader), paper=make_paper(title="A paper"))
    ARTIFACTS.mkdir(exist_ok=True)

    # when they ask for a link on the sign-in page
    page.goto(live_server.url + "/signin/")
    trap = page.locator("#id_website").bounding_box()
    assert trap is None or trap["x"] + trap["width"] <= 0  # the bot trap is off-screen
    page.screenshot(path=str(ARTIFACTS / "signin.png"), full_page=True)
    page.fill("#id_email", "Ada@Example.org")
    page.click("#send-link")

    # then the page says to check the inbox, and the outbox holds the link
    assert page.locator("#check-inbox").is_visible()
    [eml] = list(outbox_dir.glob("*.eml"))
    mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(re.escape(live_server.url) + r"/signin/\S+/", text).group(0)

    # when they open the link: a button, and nothing happens before it is pressed
    page.goto(link)
    assert Subscriber.objects.get(pk=reader.pk).signin_used_at is None
    page.click("#signin")

    # then they land on their profile, signed in, with no token in the address bar
    page.wait_for_url(live_server.url + "/profile/")
    assert "/signin/" not in page.url

    # when they follow the profile's link to their data and create their private feed
    page.click("#mydata")
    page.wait_for_url(live_server.url + "/my-data/")
    page.click("#feed-create")
    feed_url = page.locator("#feed-url").input_value()
    page.screenshot(path=str(ARTIFACTS / "mydata.png"), full_page=True)

    # then the feed answers with the digest
    feed = page.request.get(feed_url)
    assert feed.status == 200 and b"A paper" in feed.body()

    # when they download their data
    with page.expect_download() as download:
        page.click("#export")
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["subscriber"]["email"] == "ada@example.org"
    assert len(data["digests"]) == 1

    # when they sign out, the data page asks them to sign in again
    page.click("#signout-button")
    assert page.locator("#signed-out").is_visible()
    page.goto(live_server.url + "/my-data/")
    assert page.url == live_server.url + "/signin/"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_delete_everything_in_the_browser(live_server, page):
    # given a signed-in subscriber
    reader = make_subscriber(email="leaving@example.org")
    token = signin_token(subscriber_id=reader.pk, email=reader.email)
    page.goto(f"{live_server.url}/signin/{token}/")
    page.click("#signin")
    page.wait_for_url(live_server.url + "/profile/")

    # when they tick the box and delete everything
    page.goto(live_server.url + "/my-data/")
    page.check("#delete-confirm")
    page.click("#delete-everything")

    # then a page says it is done, and the subscriber is gone
    assert page.locator("#deleted").is_visible()
    assert not Subscriber.objects.filter(pk=reader.pk).exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_unsubscribe_then_resubscribe_in_the_browser(live_server, page):
    # given the unsubscribe link of a reader's e-mail
    reader = make_subscriber(email="undecided@example.org")
    page.goto(
        f"{live_server.url}/u/{unsubscribe_token(subscriber_id=reader.pk, email=reader.email)}/"
    )

    # when they unsubscribe, then change their mind
    page.click("#unsubscribe")
    assert Subscriber.objects.get(pk=reader.pk).status == "unsubscribed"
    page.click("#resubscribe")

    # then they are welcomed back and subscribed again
    assert page.locator("#resubscribed").is_visible()
    assert Subscriber.objects.get(pk=reader.pk).status == "active"
