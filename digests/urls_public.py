"""Public pages of papers by topic and by author, and the author-name suggestions."""

from django.urls import path

from digests import views_public as views

app_name = "public"
urlpatterns = [
    path("topics/<slug:slug>/", views.topic_page, name="topic"),
    # Before the author page, whose name may be anything, "suggest" included.
    path("authors/suggest/", views.author_suggest, name="author_suggest"),
    path("authors/<path:name>/", views.author_page, name="author"),
]
