"""Sign-up with double opt-in, and the magic link that signs a subscriber in."""

from django.urls import path

from subscribers import views_account as views

app_name = "account"
urlpatterns = [
    path("subscribe/", views.signup, name="signup"),
]
