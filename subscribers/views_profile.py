"""The profile editor. Being written."""

from django.http import HttpRequest, HttpResponse

from subscribers.session import subscriber_required


@subscriber_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    return HttpResponse("profile")
