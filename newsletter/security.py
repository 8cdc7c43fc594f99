"""Security Django does not do itself: a strict Content-Security-Policy, a Permissions-Policy,
and X-Forwarded-* headers believed only from the proxies named in FORWARDED_ALLOW_IPS.

No inline script or style anywhere: pages load /static/ files only, so paper text or model
output that slipped through escaping could still not run. Admin pages get Django's own needs.
No page uses a camera, a microphone, a location or a payment: the Permissions-Policy says so.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "PERMISSIONS_POLICY",
    "ContentSecurityPolicyMiddleware",
    "TrustedProxyMiddleware",
]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)
# Django admin uses a few inline styles; it stays 'self' for scripts like every other page.
ADMIN_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = ADMIN_POLICY if request.path.startswith("/admin/") else CONTENT_SECURITY_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
)


class TrustedProxyMiddleware:
    """Drop X-Forwarded-* headers unless the peer is one of our proxies (FORWARDED_ALLOW_IPS).

    Rate limits read the client's address from X-Forwarded-For and the https check from
    X-Forwarded-Proto; a client that reaches the web process directly must not choose either.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        trusted = settings.FORWARDED_ALLOW_IPS
        if "*" not in trusted and request.META.get("REMOTE_ADDR", "") not in trusted:
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)
