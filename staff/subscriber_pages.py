"""The subscriber admin's extra pages: a day's digest preview, import and export.

Each page is reached through `admin_site.admin_view` (staff only) and checks the model
permission it needs. Import and export use `subscribers.importing`, the functions behind the
`import_subscribers` and `export_subscribers` commands, so the format is theirs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse

from digests.readings import latest_issue_date
from digests.render import digest_render
from staff.actions import subscriber_day_preview
from subscribers.importing import subscribers_export, subscribers_import
from subscribers.models import Subscriber

__all__ = ["export_download", "import_page", "preview_page"]


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def preview_page(
    model_admin: admin.ModelAdmin, request: HttpRequest, *, subscriber_id: int
) -> HttpResponse:
    """The subscriber's digest for the chosen day, ranked as assembly would: GET only, no write."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        raise Http404("no such subscriber")
    asked = request.GET.get("day")
    day = _day(asked) or latest_issue_date(source="ingest-or-papers")
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": subscriber,
        "title": f"Digest preview for {subscriber.email}",
        "day": day,
        "bad_day": bool(asked) and _day(asked) is None,
    }
    if day is not None:
        preview = subscriber_day_preview(subscriber=subscriber, issue_date=day)
        context["preview"] = preview
        if preview.digest is not None and preview.digest.status != preview.digest.Status.EMPTY:
            # The digest assembled that day, exactly as e-mailed (rendering writes nothing).
            context["email"] = digest_render(preview.digest)
    return TemplateResponse(request, "admin/subscribers/subscriber/preview.html", context)


def import_page(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Upload a JSON-lines file as `import_subscribers` reads it; report as the command does."""
    if not (model_admin.has_add_permission(request) and model_admin.has_change_permission(request)):
        raise PermissionDenied
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Import subscribers",
        "format_help": "One JSON object a line, with the profile: the file export_subscribers "
        "writes. Subscribers are matched by e-mail (any case); a bad line is reported and "
        "skipped, the others are imported.",
        "accept": ".jsonl,.json,.txt,application/json",
        "noun": "lines",
    }
    upload = request.FILES.get("file") if request.method == "POST" else None
    if upload is not None:
        # Bytes, line by line: a line that is not UTF-8 is rejected alone, as in the command.
        report = subscribers_import(lines=upload)
        context["result"] = {
            "summary": f"imported {report.imported} subscribers ({report.created} created, "
            f"{report.updated} updated), {report.rejected} lines rejected",
            "errors": [f"line {number}: {reason}" for number, reason in report.errors],
        }
    elif request.method == "POST":
        context["result"] = {"failure": "Choose a file to import."}
    return TemplateResponse(request, "admin/import_export.html", context)


def _lines() -> Iterator[str]:
    for obj in subscribers_export():
        yield json.dumps(obj, ensure_ascii=False) + "\n"


def export_download(model_admin: admin.ModelAdmin, request: HttpRequest) -> StreamingHttpResponse:
    """Every subscriber as `export_subscribers` prints them, as a file download."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    response = StreamingHttpResponse(_lines(), content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="subscribers.jsonl"'
    return response
