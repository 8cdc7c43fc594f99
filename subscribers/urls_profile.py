"""The signed-in subscriber's pages: profile editor, live preview, change of address."""

from django.urls import path

from subscribers import views_profile as views

app_name = "profile"
urlpatterns = [
    path("profile/", views.profile_edit, name="edit"),
    path("profile/preview/", views.profile_preview, name="preview"),
    path("profile/email/", views.email_change, name="email_change"),
]
