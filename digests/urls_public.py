"""Public pages of papers by topic and by author."""

from django.urls import path

from digests import views_public as views

app_name = "public"
urlpatterns = [
    path("topics/<slug:slug>/", views.topic_page, name="topic"),
]
