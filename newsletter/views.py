"""Operator endpoints."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from newsletter.health import health_check


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """JSON health: 200 when the database, the broker and the last run are fine, else 503."""
    health = health_check()
    return JsonResponse(health.as_json(), status=200 if health.ok else 503)
