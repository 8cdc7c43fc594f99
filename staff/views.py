"""Staff pages beside the model admin: the day at a glance and LLM spending.

They are added to the default admin site's URLs (from `DigestsConfig.ready`) and wrapped in
`admin_view`, so anonymous users and non-staff are sent to the admin login like any admin page.
The views only parse the URL, call `staff.dashboard` / `staff.spending` and draw the charts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.urls.exceptions import NoReverseMatch
from django.utils.functional import Promise

from digests.models import (
    AnnounceType,
    Delivery,
    Digest,
    Enrichment,
    IngestDay,
    LLMUsage,
    Paper,
    Source,
)
from staff.charts import bars_svg, lines_svg
from staff.dashboard import (
    DeliveryHistory,
    PaperHistory,
    dashboard_day,
    dashboard_default_day,
    delivery_history,
    paper_history,
)
from staff.spending import spending_default_end, spending_window

__all__ = ["dashboard_view", "spending_view"]

HISTORY_DAYS = 30


def changelist_url(request: HttpRequest, model: type[Model], **filters: object) -> str:
    """The model's admin list filtered so; "" when the admin does not allow those filters."""
    if not admin.site.is_registered(model):
        return ""
    model_admin = admin.site.get_model_admin(model)
    params = {name: str(value) for name, value in filters.items()}
    if not all(model_admin.lookup_allowed(name, value, request) for name, value in params.items()):
        return ""
    try:
        base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    except NoReverseMatch:
        return ""
    return f"{base}?{urlencode(params)}" if params else base


def _parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise Http404("not a date") from error


def _figure(label: str | Promise, value: int, url: str = "") -> dict[str, Any]:
    return {"label": label, "value": value, "url": url}


def _day_figures(request: HttpRequest, board: Any) -> dict[str, list[dict[str, Any]]]:
    """Each figure with the admin list that shows its rows, where the admin can filter so."""
    day = board.day.isoformat()

    def link(model: type[Model], **filters: object) -> str:
        return changelist_url(request, model, **filters)

    papers = [_figure("ingested", board.papers.total, link(Paper, announce_date=day))] + [
        _figure(
            label,
            board.papers.by_type.get(value, 0),
            link(Paper, announce_date=day, announce_type=value),
        )
        for value, label in AnnounceType.choices
    ]
    labels = dict(Source.choices)
    papers += [
        _figure(
            f"from {labels.get(value, value)}",
            count,
            link(Paper, announce_date=day, source=value),
        )
        for value, count in board.papers.by_source.items()
    ]
    readings = [
        _figure(
            label,
            board.papers.readings.get(value, 0),
            link(Enrichment, paper__announce_date=day, status=value),
        )
        for value, label in Enrichment.Status.choices
    ] + [_figure("papers with no reading yet (pending)", board.papers.unread)]
    digests = [
        _figure("made", board.digests.made, link(Digest, issue_date=day)),
        _figure("sent", board.digests.sent, link(Digest, issue_date=day, status="sent")),
        _figure(
            "failed", board.digests.failed, link(Delivery, digest__issue_date=day, status="failed")
        ),
        _figure(
            "skipped as empty", board.digests.empty, link(Digest, issue_date=day, status="empty")
        ),
        _figure("assembled, not sent yet", board.digests.waiting),
    ]
    deliveries = [
        _figure(
            label,
            board.deliveries.by_status[value],
            link(Delivery, digest__issue_date=day, status=value),
        )
        for value, label in Delivery.Status.choices
    ] + [
        _figure(
            "stuck in sending",
            board.deliveries.stuck,
            link(Delivery, digest__issue_date=day, stuck="yes"),
        ),
        _figure(
            "opened",
            board.deliveries.opened,
            link(Delivery, digest__issue_date=day, opened_at__isnull="False"),
        ),
        _figure(
            "clicked",
            board.deliveries.clicked,
            link(Delivery, digest__issue_date=day, clicked_at__isnull="False"),
        ),
    ]
    return {"papers": papers, "readings": readings, "digests": digests, "deliveries": deliveries}


def _papers_chart(papers: PaperHistory) -> Any:
    """Papers ingested per issue day, stacked by source (a series per source)."""
    names = dict(Source.choices)
    return bars_svg(
        title="Papers ingested per issue day, by source",
        labels=[day.strftime("%m-%d") for day in papers.days],
        series={names.get(s, s): counts for s, counts in papers.by_source.items()},
    )


def _history_charts(history: DeliveryHistory) -> list[Any]:
    labels = [day.strftime("%m-%d") for day in history.days]
    charts = [
        bars_svg(title="Digests sent per issue day", labels=labels, series={"sent": history.sent}),
        bars_svg(
            title="Bounces, complaints and permanent failures per issue day",
            labels=labels,
            series={
                "bounced": history.bounced,
                "complained": history.complained,
                "failed": history.failed,
            },
        ),
    ]
    if history.tracked:
        charts.append(
            lines_svg(
                title="Opens and clicks reported by the ESP, per issue day",
                labels=labels,
                series={"opened": history.opened, "clicked": history.clicked},
            )
        )
    return charts


def dashboard_view(request: HttpRequest, day: str | None = None) -> HttpResponse:
    if picked := request.GET.get("day"):
        return HttpResponseRedirect(
            reverse("admin:digests_dashboard_day", args=[_parse_day(picked).isoformat()])
        )
    shown = _parse_day(day) if day else dashboard_default_day()
    board = dashboard_day(day=shown)
    history = delivery_history(end=shown, days=HISTORY_DAYS)
    context = {
        **admin.site.each_context(request),
        "title": f"The day at a glance: {shown.isoformat()}",
        "board": board,
        "figures": _day_figures(request, board),
        "ingest_url": changelist_url(request, IngestDay, date=shown.isoformat()),
        "history": history,
        "charts": _history_charts(history),
        "papers_chart": _papers_chart(paper_history(end=shown, days=HISTORY_DAYS)),
        "history_days": HISTORY_DAYS,
    }
    return TemplateResponse(request, "admin/digests/dashboard.html", context)


def _spending_charts(spending: Any) -> list[Any]:
    labels = [day.day.strftime("%m-%d") for day in spending.days]
    purposes = {
        label: [day.by_purpose.get(value, 0) for day in spending.days]
        for value, label in LLMUsage.Purpose.choices
    }
    return [
        bars_svg(
            title="Tokens per day by purpose, against the daily budget",
            labels=labels,
            series=purposes,
            limit=spending.budget,
            limit_label="daily token budget",
        ),
        bars_svg(
            title="Estimated cost per day (USD)",
            labels=labels,
            series={"cost": [float(day.totals.cost) for day in spending.days]},
            fmt=lambda value: f"${value:,.4f}",
        ),
    ]


def spending_view(request: HttpRequest) -> HttpResponse:
    end = _parse_day(request.GET["end"]) if request.GET.get("end") else spending_default_end()
    spending = spending_window(end=end, days=HISTORY_DAYS)
    rows = [
        {
            "spent": spent,
            "usage_url": changelist_url(request, LLMUsage, day=spent.day.isoformat()),
            "skipped_url": changelist_url(
                request, Enrichment, paper__announce_date=spent.day.isoformat(), status="skipped"
            ),
        }
        for spent in reversed(spending.days)
    ]
    context = {
        **admin.site.each_context(request),
        "title": f"LLM spending: {spending.days[0].day} to {end}",
        "spending": spending,
        "rows": rows,
        "charts": _spending_charts(spending),
        "end": end,
        "previous_end": end - dt.timedelta(days=HISTORY_DAYS),
        "next_end": end + dt.timedelta(days=HISTORY_DAYS),
    }
    return TemplateResponse(request, "admin/digests/spending.html", context)
