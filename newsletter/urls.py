"""Top-level URL configuration: the public pages, the reader's pages, staff, health, webhooks."""

from django.contrib import admin
from django.urls import include, path

from newsletter import views as site_views
from newsletter import webhooks

urlpatterns = [
    path("healthz", site_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),  # staff.site.StaffSite
    path("", include("pages.urls")),
    path("", include("subscribers.urls")),
    # The configured ESP's tracking webhook only, and only with ANYMAIL_WEBHOOK_SECRET set
    # (newsletter/webhooks.py); Anymail's other routes (other ESPs, inbound) are not mounted.
    path("anymail/<slug:esp>/tracking/", webhooks.tracking_webhook, name="esp_tracking"),
]
