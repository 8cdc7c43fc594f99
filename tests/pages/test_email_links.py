"""Pages behind the e-mail's links: styled (base.html), in the reader's language; "manage your
profile" mails a fresh sign-in link instead of opening the account."""

from __future__ import annotations

import pytest
from django.urls import reverse

from digests.render import manage_url
from subscribers.tokens import feedback_token
from tests.factories import make_paper, make_subscriber


@pytest.mark.django_db
def test_manage_link_mails_a_sign_in_link_and_opens_nothing(client, settings, monkeypatch):
    settings.SITE_URL = "http://testserver"
    reader = make_subscriber(email="reader@example.org", language="zh")
    queued = []
    monkeypatch.setattr("pages.views.signin_link_deliver.delay", queued.append)
    url = manage_url(reader.pk).removeprefix("http://testserver")

    page = client.get(url)  # a mail scanner, or whoever the e-mail was forwarded to
    assert page.status_code == 200 and queued == []
    body = page.content.decode()
    assert '<html lang="zh-hans">' in body and "site.css" in body
    assert "r…@example.org" in body and "reader@example.org" not in body
    assert client.get(reverse("subscribers:profile")).status_code == 302  # not signed in

    sent = client.post(url)
    assert sent.status_code == 200 and queued == ["reader@example.org"]
    assert client.get(reverse("subscribers:profile")).status_code == 302  # still not

    assert client.get("/m/forged-token/").status_code == 400


@pytest.mark.django_db
def test_feedback_and_paper_pages_speak_the_readers_language(client):
    reader = make_subscriber(language="zh")
    paper = make_paper(title="\\textbf{DiPOD}: distillation")
    token = feedback_token(subscriber_id=reader.pk, paper_id=paper.pk, signal="more")

    feedback = client.get(reverse("public:feedback", args=[token]), HTTP_ACCEPT_LANGUAGE="en")
    page = client.get(f"/papers/{paper.arxiv_id}/?lang=zh-hans", HTTP_ACCEPT_LANGUAGE="en")

    assert '<html lang="zh-hans">' in feedback.content.decode()
    assert "多推荐这类" in feedback.content.decode()
    body = page.content.decode()
    assert '<html lang="zh-hans">' in body and "site.css" in body
    assert "DiPOD: distillation" in body and "\\textbf" not in body
