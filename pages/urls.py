"""The public pages: home, papers, a digest in the browser, topic and author pages, feeds,
search, and the signed-in reader's archive and reading list."""

from django.urls import path

from pages import reader_views, search_views, views

app_name = "public"
urlpatterns = [
    path("", views.home, name="home"),
    # Before the paper page, whose id may hold a slash (old-style ids: hep-th/9901001).
    path("papers/<path:arxiv_id>/save/", reader_views.paper_save_web, name="paper_save"),
    path("papers/<path:arxiv_id>/unsave/", reader_views.paper_unsave_web, name="paper_unsave"),
    path("papers/<path:arxiv_id>/", views.paper_detail, name="paper"),
    path("d/<str:token>/", views.digest_detail, name="digest"),
    path("f/<str:token>/", views.feedback, name="feedback"),
    path("s/<str:token>/", reader_views.save_from_email, name="save"),
    path("m/<str:token>/", views.manage, name="manage"),
    path("feed/<str:key>.atom", views.feed, name="feed"),
    path("topics/<slug:slug>/", views.topic_page, name="topic"),
    # Before the author page, whose name may be anything, "suggest" included.
    path("authors/suggest/", views.author_suggest, name="author_suggest"),
    path("authors/follow/", views.author_follow, name="author_follow"),
    path("authors/<path:name>/", views.author_page, name="author"),
    path("search/", search_views.search, name="search"),
    path("archive/", reader_views.archive, name="archive"),
    path("archive/marked/", reader_views.marked, name="marked"),
    path("archive/<str:day>/", reader_views.archive_day, name="archive_day"),
    path("saved/", reader_views.reading_list, name="saved"),
    path(
        "saved/reading-list.bib",
        reader_views.reading_list_export,
        {"kind": "bib"},
        name="saved_bib",
    ),
    path(
        "saved/reading-list.ris",
        reader_views.reading_list_export,
        {"kind": "ris"},
        name="saved_ris",
    ),
]
