"""Sign-up with double opt-in, and the links that confirm an address."""

from django.urls import path

from subscribers import views_account as views

app_name = "account"
urlpatterns = [
    path("subscribe/", views.signup, name="signup"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("email/confirm/<str:token>/", views.email_change_confirm, name="email_change_confirm"),
]
