"""Public pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from digests.models import Paper, Topic


def home(request: HttpRequest) -> HttpResponse:
    """The front page: what the service is, the featured topics and the latest day's count."""
    latest = (
        Paper.objects.order_by("-announce_date").values_list("announce_date", flat=True).first()
    )
    context = {
        "topics": Topic.objects.filter(featured=True, parent=None),
        "latest_date": latest,
        "latest_count": Paper.objects.filter(announce_date=latest).count() if latest else 0,
    }
    return render(request, "home.html", context)
