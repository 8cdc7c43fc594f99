"""The signed-in subscriber's pages: profile editor, live preview, feed, their data."""

from django.urls import path

from subscribers import views_profile as views

app_name = "profile"
urlpatterns = [
    path("profile/", views.profile_edit, name="edit"),
]
