"""Sending pages, mounted at /send/."""

from django.urls import path

from . import send_views as views

app_name = "sending"
urlpatterns = [
    path("", views.compose, name="compose"),
    path("contacts.json", views.contacts, name="contacts"),
    path("sent/", views.sent_list, name="list"),
    path("scheduled/", views.scheduled_list, name="scheduled"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/status.json", views.status, name="status"),
    path("<int:pk>/destinations/<int:destination_pk>/resolve/", views.resolve, name="resolve"),
    path("<int:pk>/destinations/<int:destination_pk>/resend/", views.resend, name="resend"),
]
