"""Subscriber pages reached from e-mail links. A GET never changes anything (mail scanners
follow links); the POST acts. RFC 8058's one-click POST unsubscribes with no page or redirect.

A link acts only on the address it was mailed to: after a change of address, an old link is
refused, and never shows the new address."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from subscribers.addresses import email_fingerprint
from subscribers.models import Subscriber
from subscribers.services import subscriber_resubscribe, subscriber_unsubscribe
from subscribers.tokens import BadToken, unsubscribe_token_read

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


def _subscriber(token: str) -> tuple[Subscriber | None, bool]:
    """The subscriber the link is for, if it was mailed to their current address, and whether
    the page may show the address (not for an old link that names no address)."""
    try:
        subscriber_id, fingerprint = unsubscribe_token_read(token)
    except BadToken:
        return None, False
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return None, False
    if fingerprint is None:
        return subscriber, False
    if fingerprint != email_fingerprint(subscriber.email):
        return None, False
    return subscriber, True


@never_cache
@csrf_exempt  # RFC 8058: mail providers POST without a session; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber, show_address = _subscriber(token)
    if subscriber is None:
        return render(request, "subscribers/link_invalid.html", status=400)
    context = {"subscriber": subscriber, "token": token, "show_address": show_address}
    if request.method == "POST":
        subscriber_unsubscribe(subscriber=subscriber)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("unsubscribed\n", content_type="text/plain")
        return render(request, "subscribers/unsubscribed.html", context)
    return render(request, "subscribers/unsubscribe.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def resubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Undo an unsubscribe with the same signed link: a page with a button; the POST acts."""
    subscriber, show_address = _subscriber(token)
    if subscriber is None or not show_address:  # only a link bound to the address restarts mail
        return render(request, "subscribers/link_invalid.html", status=400)
    resubscribed = request.method == "POST" and subscriber_resubscribe(subscriber=subscriber)
    context = {"subscriber": subscriber, "token": token, "resubscribed": resubscribed}
    return render(request, "subscribers/resubscribe.html", context)
