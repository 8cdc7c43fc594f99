"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path

from digests import views as digest_views
from newsletter import views as site_views

urlpatterns = [
    path("", digest_views.home, name="home"),
    path("papers/<path:arxiv_id>/", digest_views.paper_detail, name="paper"),
    path("d/<str:token>/", digest_views.digest_detail, name="digest"),
    path("healthz", site_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("subscribers.urls")),
    path("", include("subscribers.urls_account")),
    path("", include("subscribers.urls_profile")),
    path("", include("subscribers.urls_signin")),
    path("", include("digests.urls_public")),
    path("anymail/", include("anymail.urls")),  # ESP tracking webhooks
]
