"""The staff site: Django's admin with the day's dashboard and the LLM spending beside the models.

`StaffAdminConfig` makes it the default admin site, so `admin.site` and `@admin.register` in
`staff.admin` address it, and its URLs keep the `admin:` namespace. Its sign-in is throttled
per address and per username (`staff.login_throttle`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from staff.login_throttle import login_refused

__all__ = ["StaffSite"]


class StaffSite(admin.AdminSite):
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return login_refused(request) or super().login(request, extra_context)

    def get_urls(self) -> list[URLPattern | URLResolver]:
        """The staff pages in front of the models' own, behind the same staff-only check."""
        from staff.views import dashboard_view, spending_view

        return [
            path("dashboard/", self.admin_view(dashboard_view), name="digests_dashboard"),
            path(
                "dashboard/<str:day>/",
                self.admin_view(dashboard_view),
                name="digests_dashboard_day",
            ),
            path("spending/", self.admin_view(spending_view), name="digests_spending"),
            *super().get_urls(),
        ]
