from django.urls import path

from subscribers import views

app_name = "subscribers"
urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("u/<str:token>/resubscribe/", views.resubscribe, name="resubscribe"),
    path("f/<str:token>/", views.feedback, name="feedback"),
]
