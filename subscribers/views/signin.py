"""Magic-link sign-in and sign-out, the private feed, and the subscriber's own data.

A GET of a link from an e-mail only shows a page with a button (mail scanners follow links);
the POST acts. Pages that show a link's outcome answer 200, not 4xx, where they can: Django
logs the path of every 4xx response, and these paths hold tokens. Every page here is sent
with `Cache-Control: no-store`. A reader who left signs in to their data pages only.
"""

from __future__ import annotations

import json

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from subscribers.feed_keys import feed_key_remove, feed_key_rotate, feed_url
from subscribers.forms import NormalisedEmailField
from subscribers.mydata import subscriber_delete, subscriber_export
from subscribers.ratelimit import Limit, client_ip, limit_hit
from subscribers.session import (
    SubscriberRequest,
    current_subscriber,
    data_access_required,
    session_is_full,
    sign_in,
    sign_out,
    subscriber_required,
)
from subscribers.signin import SpentToken, signin_link_check, signin_link_use
from subscribers.tasks import signin_link_deliver
from subscribers.tokens import BadToken, ExpiredToken

SIGNIN_PER_IP = Limit(scope="signin-ip", count=20, seconds=60 * 10)
SIGNIN_PER_ADDRESS = Limit(scope="signin-address", count=5, seconds=60 * 60)


class SigninForm(forms.Form):
    email = NormalisedEmailField(label=_("Your e-mail address"), max_length=254)
    # A bot trap: hidden from people by account.css, filled in by form-filling robots.
    website = forms.CharField(required=False, label=_("Leave this empty"))


class DeleteForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, delete my subscription and all my data"))


@never_cache
@require_http_methods(["GET", "POST"])
def signin_request(request: HttpRequest) -> HttpResponse:
    """ "Email me a link": the same answer whether the address is known or not."""
    form = SigninForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if limit_hit(SIGNIN_PER_IP, client_ip(request)) or limit_hit(SIGNIN_PER_ADDRESS, email):
            return render(request, "subscribers/signin_limited.html", status=429)
        if not form.cleaned_data["website"]:
            # Queued for every address, known or not, without looking it up here: the answer
            # takes the same time for an unknown, a suppressed and an active address.
            signin_link_deliver.delay(email)  # nothing was written: no commit to wait for
        return render(request, "subscribers/signin_sent.html", {"email": email})
    return render(request, "subscribers/signin.html", {"form": form})


def _home(request: HttpRequest) -> HttpResponse:
    """Where a signed-in reader lands: the profile, or their data page if they left."""
    return redirect("subscribers:profile" if session_is_full(request) else "subscribers:mydata")


@never_cache
@require_http_methods(["GET", "POST"])
def signin_land(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail: a GET shows a button; its POST signs in, once."""
    try:
        subscriber = signin_link_check(token=token)
        if request.method == "POST":
            subscriber = signin_link_use(token=token)
            sign_in(request, subscriber)
            return _home(request)
    except (ExpiredToken, SpentToken):  # too old, used, or the address or status changed
        signed_in = current_subscriber(request)
        if signed_in is not None and request.method == "POST":
            return _home(request)  # a second click on the button of a used link
        return render(request, "subscribers/signin_expired.html")
    except BadToken:
        return render(request, "subscribers/link_invalid.html", status=400)
    return render(request, "subscribers/signin_land.html", {"subscriber": subscriber})


@never_cache
@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    sign_out(request)
    return render(request, "subscribers/signin_signedout.html")


def _mydata_context(request: SubscriberRequest, delete_form: DeleteForm) -> dict[str, object]:
    full = session_is_full(request)  # a reader who left has no feed to manage
    return {
        "feed_url": feed_url(request.subscriber) if full else "",
        "full_session": full,
        "delete_form": delete_form,
    }


@never_cache
@require_GET
@data_access_required
def mydata(request: SubscriberRequest) -> HttpResponse:
    """The subscriber's data page: the private feed, the download, the deletion."""
    return render(request, "subscribers/mydata.html", _mydata_context(request, DeleteForm()))


@never_cache
@require_POST
@subscriber_required
def feed_rotate(request: SubscriberRequest) -> HttpResponse:
    """Create or replace the feed's secret address, or turn the feed off."""
    if request.POST.get("action") == "off":
        feed_key_remove(subscriber=request.subscriber)
    else:
        feed_key_rotate(subscriber=request.subscriber)
    return redirect("subscribers:mydata")


@never_cache
@require_GET
@data_access_required
def export(request: SubscriberRequest) -> HttpResponse:
    """Everything we hold about the subscriber, as a JSON download."""
    data = subscriber_export(subscriber=request.subscriber)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="arxiv-digest-my-data.json"'
    return response


@never_cache
@require_POST
@data_access_required
def delete(request: SubscriberRequest) -> HttpResponse:
    """Delete the subscriber and all their data, after a ticked confirmation."""
    form = DeleteForm(request.POST)
    if not form.is_valid():
        return render(request, "subscribers/mydata.html", _mydata_context(request, form))
    subscriber_delete(subscriber=request.subscriber)
    sign_out(request)
    return render(request, "subscribers/mydata_deleted.html")
