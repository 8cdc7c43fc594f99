"""The public pages: home, papers, a digest in the browser, topic and author pages, feeds."""

from django.urls import path

from pages import views

app_name = "public"
urlpatterns = [
    path("", views.home, name="home"),
    path("papers/<path:arxiv_id>/", views.paper_detail, name="paper"),
    path("d/<str:token>/", views.digest_detail, name="digest"),
    path("f/<str:token>/", views.feedback, name="feedback"),
    path("m/<str:token>/", views.manage, name="manage"),
    path("feed/<str:key>.atom", views.feed, name="feed"),
    path("topics/<slug:slug>/", views.topic_page, name="topic"),
    # Before the author page, whose name may be anything, "suggest" included.
    path("authors/suggest/", views.author_suggest, name="author_suggest"),
    path("authors/<path:name>/", views.author_page, name="author"),
]
