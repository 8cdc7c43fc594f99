"""Public topic and author pages. Being written."""

from django.http import HttpRequest, HttpResponse


def topic_page(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(slug)
