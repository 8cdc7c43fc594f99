"""Magic-link sign-in. Being written."""

from django.http import HttpRequest, HttpResponse


def signin_request(request: HttpRequest) -> HttpResponse:
    return HttpResponse("sign-in")


def signin_land(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponse("sign-in")
