"""Sign-up (double opt-in) and magic-link sign-in. Being written: see the helpers' work."""

from django.http import HttpRequest, HttpResponse


def signup(request: HttpRequest) -> HttpResponse:
    return HttpResponse("sign-up")
