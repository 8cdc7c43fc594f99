"""Security headers on every page; HTTPS-only cookies and HSTS when served over https."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from newsletter.security import CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY
from subscribers.tokens import signin_token, unsubscribe_token
from tests.conftest import REPO
from tests.factories import make_subscriber

PAGES = ["/", "/signin/", "/subscribe/", "/this-page-does-not-exist/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_security_headers(client, path):
    response = client.get(path)

    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "camera=()" in PERMISSIONS_POLICY and "geolocation=()" in PERMISSIONS_POLICY


def test_the_policy_allows_no_inline_code_and_no_framing():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))

    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


@pytest.mark.django_db
def test_pages_with_tokens_in_their_address_hand_no_referrer_to_another_site(client):
    # same-origin, not no-referrer: with no-referrer browsers post forms with "Origin: null",
    # which the CSRF check refuses; either way no other site ever sees these addresses
    reader = make_subscriber(email="ada@example.org")
    for path in (
        f"/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/",
        f"/u/{unsubscribe_token(subscriber_id=reader.pk, email=reader.email)}/",
    ):
        assert client.get(path)["Referrer-Policy"] == "same-origin"


INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),  # an inline script
    re.compile(r"<style\b", re.IGNORECASE),
    re.compile(r"\sstyle=", re.IGNORECASE),
    re.compile(r"\son[a-z]+=", re.IGNORECASE),  # onclick= and friends
]


@pytest.mark.django_db
def test_the_account_pages_hold_no_inline_script_or_style(client):
    # given the pages of sign-in, a reader's data and unsubscribing
    reader = make_subscriber(email="ada@example.org")
    token = unsubscribe_token(subscriber_id=reader.pk, email=reader.email)
    pages = [
        client.get("/signin/"),
        client.post("/signin/", {"email": "ada@example.org"}),
        client.get(f"/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/"),
        client.get(f"/u/{token}/"),
    ]
    client.post(f"/signin/{signin_token(subscriber_id=reader.pk, email=reader.email)}/")
    pages += [client.get("/my-data/"), client.post(f"/u/{token}/")]

    # then none holds code or style the policy would block
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200, html[:200]
        for pattern in INLINE:
            assert not pattern.search(html), (response.request["PATH_INFO"], pattern.pattern)


# HTTPS: settings are read once at start-up, so each case starts a fresh process.

PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client, override_settings
from django.test.utils import setup_test_environment

setup_test_environment()
storage = "django.contrib.staticfiles.storage.StaticFilesStorage"  # no collectstatic here
with override_settings(STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": storage}}):
    plain = Client().get("/signin/")
    secure = Client().get("/signin/", secure=True)
print(json.dumps({
    "hsts_seconds": settings.SECURE_HSTS_SECONDS,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location"),
    "secure_hsts": secure.headers.get("Strict-Transport-Security"),
    "secure_csrf_cookie_secure": secure.cookies["csrftoken"]["secure"],
}))
"""


def _settings_under(tmp_path: Path, **env: str) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SITE_URL", "DATABASE_URL", "ALLOWED_HOSTS"}
    }
    environment.update(
        {"DJANGO_SETTINGS_MODULE": "newsletter.settings", "DATA_DIR": str(tmp_path), **env}
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_behind_https_cookies_are_secure_and_hsts_is_sent(tmp_path):
    # when the site is served at an https address, not in DEBUG
    seen = _settings_under(tmp_path, SITE_URL="https://digest.example.org")

    # then a year of HSTS, cookies only over https, and plain http redirected to https
    assert seen["hsts_seconds"] == 60 * 60 * 24 * 365
    assert seen["session_cookie_secure"] is True
    assert seen["csrf_cookie_secure"] is True
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://testserver/signin/"
    assert seen["secure_hsts"] == "max-age=31536000; includeSubDomains"
    assert seen["secure_csrf_cookie_secure"] is True


@pytest.mark.parametrize(
    "env",
    [
        {"SITE_URL": "https://digest.example.org", "DEBUG": "true"},
        {"SITE_URL": "http://127.0.0.1:8000"},
    ],
    ids=["https-in-debug", "plain-http-demo"],
)
def test_in_debug_or_over_plain_http_nothing_forces_https(tmp_path, env):
    seen = _settings_under(tmp_path, **env)

    assert seen["hsts_seconds"] == 0
    assert seen["session_cookie_secure"] is False
    assert seen["csrf_cookie_secure"] is False
    assert seen["plain_status"] == 200
    assert seen["secure_hsts"] is None
    assert seen["secure_csrf_cookie_secure"] == ""
