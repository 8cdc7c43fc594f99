"""Magic-link sign-in, and the signed-in subscriber's own data: feed, export, deletion."""

from django.urls import path

from subscribers import views_signin as views

app_name = "signin"
urlpatterns = [
    path("signin/", views.signin_request, name="request"),
    path("signin/<str:token>/", views.signin_land, name="land"),
]
