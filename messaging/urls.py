"""Message pages, mounted at /messages/."""

from django.urls import path

from . import bulk_views, views

app_name = "messaging"
urlpatterns = [
    path("bulk/", bulk_views.upload, name="bulk_upload"),
    path("bulk/<int:pk>/", bulk_views.detail, name="bulk_file"),
    path("bulk/<int:pk>/columns", bulk_views.mapping, name="bulk_map"),
    path("bulk/<int:pk>/status.json", bulk_views.status, name="bulk_status"),
    path("bulk/<int:pk>/bad-rows.csv", bulk_views.bad_rows_csv, name="bulk_bad_rows"),
    path("bulk/<int:pk>/send", bulk_views.start, name="bulk_start"),
    path("bulk/<int:pk>/pause", bulk_views.pause, name="bulk_pause"),
    path("bulk/<int:pk>/resume", bulk_views.resume, name="bulk_resume"),
    path("bulk/<int:pk>/cancel", bulk_views.cancel, name="bulk_cancel"),
    path("sync/", views.sync_health, name="sync_health"),
    path("sync/auth-retry/", views.auth_retry, name="auth_retry"),
    path("sync/<int:pk>/now", views.sync_now, name="sync_now"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("exports/<int:pk>/download", views.export_download, name="export_download"),
    path("exports/<int:pk>/retry", views.export_retry, name="export_retry"),
    path("<str:feed>/<int:pk>/", views.message_detail, name="detail"),
    path("<slug:slug>/export.<str:fmt>", views.export, name="export"),
    path("<slug:slug>/", views.message_list, name="list"),
]
