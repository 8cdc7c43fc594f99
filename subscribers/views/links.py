"""Subscriber pages reached from e-mail links. A GET never changes anything (mail scanners
follow links); the POST acts. RFC 8058's one-click POST unsubscribes with no page or redirect."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from subscribers.models import Subscriber
from subscribers.services import subscriber_resubscribe, subscriber_unsubscribe
from subscribers.tokens import BadToken, unsubscribe_token_read

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


def _subscriber(token: str) -> Subscriber | None:
    try:
        return Subscriber.objects.filter(pk=unsubscribe_token_read(token)).first()
    except BadToken:
        return None


@csrf_exempt  # RFC 8058: mail providers POST without a session; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = _subscriber(token)
    if subscriber is None:
        return render(request, "subscribers/link_invalid.html", status=400)
    context = {"subscriber": subscriber, "token": token}
    if request.method == "POST":
        subscriber_unsubscribe(subscriber=subscriber)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("unsubscribed\n", content_type="text/plain")
        return render(request, "subscribers/unsubscribed.html", context)
    return render(request, "subscribers/unsubscribe.html", context)


@require_http_methods(["GET", "POST"])
def resubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Undo an unsubscribe with the same signed link: a page with a button; the POST acts."""
    subscriber = _subscriber(token)
    if subscriber is None:
        return render(request, "subscribers/link_invalid.html", status=400)
    resubscribed = request.method == "POST" and subscriber_resubscribe(subscriber=subscriber)
    context = {"subscriber": subscriber, "token": token, "resubscribed": resubscribed}
    return render(request, "subscribers/resubscribe.html", context)
