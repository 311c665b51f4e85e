"""Message pages, mounted at /messages/."""

from django.urls import path

from . import views

app_name = "messaging"
urlpatterns = [
    path("sync/", views.sync_health, name="sync_health"),
    path("sync/<int:pk>/now", views.sync_now, name="sync_now"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("exports/<int:pk>/download", views.export_download, name="export_download"),
    path("<str:feed>/<int:pk>/", views.message_detail, name="detail"),
    path("<slug:slug>/export.<str:fmt>", views.export, name="export"),
    path("<slug:slug>/", views.message_list, name="list"),
]
