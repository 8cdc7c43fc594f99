"""X-Forwarded-* headers count only from the proxies named in FORWARDED_ALLOW_IPS."""

from __future__ import annotations

import pytest

from subscribers.views.signin import SIGNIN_PER_IP

pytestmark = pytest.mark.django_db


def _signins(client, *, remote: str) -> list[int]:
    return [
        client.post(
            "/signin/",
            {"email": f"reader{n}@example.org"},
            REMOTE_ADDR=remote,
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(SIGNIN_PER_IP.count + 1)
    ]


def test_a_client_reaching_the_web_process_directly_cannot_choose_its_address(
    client, settings, outbox_dir
):
    # given the service set for one proxy, at 10.0.0.2
    settings.TRUSTED_PROXY_COUNT = 1
    settings.FORWARDED_ALLOW_IPS = ("10.0.0.2",)

    # when a client from elsewhere sends a new X-Forwarded-For each time
    answers = _signins(client, remote="198.51.100.7")

    # then its own address counted: refused past the limit
    assert answers == [200] * SIGNIN_PER_IP.count + [429]


def test_the_proxy_s_forwarded_for_is_believed(client, settings, outbox_dir):
    # given the same requests, coming from the proxy
    settings.TRUSTED_PROXY_COUNT = 1
    settings.FORWARDED_ALLOW_IPS = ("10.0.0.2",)

    # then each named client is counted on its own
    assert _signins(client, remote="10.0.0.2") == [200] * (SIGNIN_PER_IP.count + 1)


def test_a_forwarded_proto_from_a_stranger_does_not_make_a_request_secure(client, settings):
    # given https is required, behind a proxy at 10.0.0.2
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.FORWARDED_ALLOW_IPS = ("10.0.0.2",)

    # when a stranger claims https, it is still sent to https; the proxy's claim is believed
    stranger = client.get("/signin/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_PROTO="https")
    proxy = client.get("/signin/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_PROTO="https")
    assert stranger.status_code == 301 and stranger["Location"].startswith("https://")
    assert proxy.status_code == 200
