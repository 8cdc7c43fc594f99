"""The reader's pages, in one namespace: sign-up, sign-in, profile, my data, e-mail links."""

from django.urls import path

from subscribers.views import account, inferred, library, links, profile, signin

app_name = "subscribers"
urlpatterns = [
    # Sign-up with double opt-in, and the links that confirm an address.
    path("subscribe/", account.signup, name="signup"),
    path("confirm/<str:token>/", account.confirm, name="confirm"),
    path("email/confirm/<str:token>/", account.email_change_confirm, name="email_change_confirm"),
    # Magic-link sign-in.
    path("signin/", signin.signin_request, name="signin"),
    path("signin/<str:token>/", signin.signin_land, name="signin_land"),
    path("signout/", signin.signout, name="signout"),
    # The signed-in reader's profile editor, live preview and change of address.
    path("profile/", profile.profile_edit, name="profile"),
    path("profile/preview/", profile.profile_preview, name="profile_preview"),
    path("profile/email/", profile.email_change, name="email_change"),
    path("profile/categories/", inferred.inferred_category, name="inferred_category"),
    # The reader's library: an uploaded export, entries dropped, Zotero.
    path("profile/library/", library.library_upload, name="library_upload"),
    path("profile/library/drop/", library.library_entry_drop, name="library_drop"),
    path("profile/library/zotero/", library.zotero_link, name="zotero_link"),
    path("profile/library/zotero/remove/", library.zotero_unlink, name="zotero_unlink"),
    # The reader's own data: feed address, export, deletion.
    path("my-data/", signin.mydata, name="mydata"),
    path("my-data/export.json", signin.export, name="export"),
    path("my-data/delete/", signin.delete, name="delete"),
    path("my-data/feed/", signin.feed_rotate, name="feed_rotate"),
    # Links in every e-mail.
    path("u/<str:token>/", links.unsubscribe, name="unsubscribe"),
    path("u/<str:token>/resubscribe/", links.resubscribe, name="resubscribe"),
]
