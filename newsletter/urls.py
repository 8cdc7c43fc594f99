"""Top-level URL configuration: the public pages, the reader's pages, staff, health, webhooks."""

from django.contrib import admin
from django.urls import include, path

from newsletter import views as site_views

urlpatterns = [
    path("healthz", site_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),  # staff.site.StaffSite
    path("", include("pages.urls")),
    path("", include("subscribers.urls")),
    path("anymail/", include("anymail.urls")),  # ESP tracking webhooks
]
