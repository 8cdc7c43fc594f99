"""Sign-up with double opt-in, and the links mailed to confirm an address.

Thin views: the forms check the input, tasks record the sign-up and send the mail
(`subscribers.signup` holds the steps). A GET on a mailed link only shows a page with one
button (mail scanners follow links); the POST acts. Pages reached by a token are never stored
by a browser or proxy (no-store).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from subscribers.email_change import (
    EmailTaken,
    email_change_check,
    subscriber_email_change_confirm,
)
from subscribers.forms import LANGUAGES, SIGNUP_INITIAL, SignupForm
from subscribers.ratelimit import Limit, client_ip, limit_hit
from subscribers.session import sign_in
from subscribers.signup import confirm_check, signup_payload, subscriber_confirm
from subscribers.tasks import signup_record
from subscribers.tokens import BadToken, ExpiredToken

SIGNUP_PER_IP = Limit("signup-ip", count=10, seconds=60)
# Per address: a stranger cannot flood someone's inbox with confirmation mail.
SIGNUP_PER_ADDRESS = Limit("signup-address", count=3, seconds=60 * 60)


def _page_language(request: HttpRequest) -> str:
    code = (getattr(request, "LANGUAGE_CODE", "") or "en").split("-")[0]
    return code if code in dict(LANGUAGES) else "en"


def _signup_done(request: HttpRequest, email: str) -> HttpResponse:
    """The one answer to every accepted sign-up: it says nothing about the address's state."""
    return render(request, "subscribers/signup_done.html", {"email": email})


@never_cache
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = SignupForm(initial={**SIGNUP_INITIAL, "language": _page_language(request)})
        return render(request, "subscribers/signup.html", {"form": form})
    if limit_hit(SIGNUP_PER_IP, client_ip(request)):
        response = render(request, "subscribers/signup_limited.html", status=429)
        response["Retry-After"] = str(SIGNUP_PER_IP.seconds)
        return response
    form = SignupForm(request.POST)
    if not form.is_valid():
        return render(request, "subscribers/signup.html", {"form": form}, status=400)
    email = form.cleaned_data["email"]
    if form.cleaned_data["website"]:
        return _signup_done(request, email)  # a bot filled the honeypot: pretend, do nothing
    if not limit_hit(SIGNUP_PER_ADDRESS, email):
        # The same work for every address: nothing looked up or written here (timing tells
        # nothing); the task records the sign-up and decides what, if anything, to send.
        payload = signup_payload(
            subscriber_fields=form.subscriber_fields(),
            profile_fields=form.profile_fields(),
            topics=form.topic_list(),
        )
        signup_record.delay(email, payload)  # nothing was written: no commit to wait for
    return _signup_done(request, email)


def _bad_link(request: HttpRequest, error: BadToken) -> HttpResponse:
    if isinstance(error, ExpiredToken):
        return render(request, "subscribers/confirm_expired.html", status=410)
    return render(request, "subscribers/link_invalid.html", status=400)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "GET":
            return render(request, "subscribers/confirm.html", {"subscriber": confirm_check(token)})
        subscriber, confirmed_now = subscriber_confirm(token=token)
    except BadToken as error:
        return _bad_link(request, error)
    if not confirmed_now:
        return render(request, "subscribers/confirm_already.html", {"subscriber": subscriber})
    sign_in(request, subscriber)
    messages.success(request, _("Your subscription is confirmed. Welcome!"))
    return redirect("subscribers:profile")


@never_cache
@require_http_methods(["GET", "POST"])
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "GET":
            _subscriber, new_email = email_change_check(token)
            return render(request, "subscribers/email_change_confirm.html", {"email": new_email})
        subscriber = subscriber_email_change_confirm(token=token)
    except BadToken as error:
        return _bad_link(request, error)
    except EmailTaken:
        return render(request, "subscribers/email_change_taken.html", status=409)
    # The old session ended with the old address's fingerprint: open a new one.
    sign_in(request, subscriber)
    messages.success(request, _("Your address is changed."))
    return redirect("subscribers:profile")
