"""Magic-link sign-in, and the signed-in subscriber's own data: feed, export, deletion."""

from django.urls import path

from subscribers import views_signin as views

app_name = "signin"
urlpatterns = [
    path("signin/", views.signin_request, name="request"),
    path("signin/<str:token>/", views.signin_land, name="land"),
    path("signout/", views.signout, name="signout"),
    path("my-data/", views.mydata, name="mydata"),
    path("my-data/export.json", views.export, name="export"),
    path("my-data/delete/", views.delete, name="delete"),
    path("my-data/feed/", views.feed_rotate, name="feed_rotate"),
    path("feed/<str:key>.atom", views.feed, name="feed"),
]
