"""Sandbox URLs: ``index.php`` (and ``/``) answer the webservices; ``faults/`` is for staff."""

from django.urls import path

from . import views

app_name = "sandbox"
urlpatterns = [
    path("", views.endpoint, name="root"),
    path("index.php", views.endpoint, name="endpoint"),
    path("faults/", views.fault_switches, name="faults"),
    path("faults/delete", views.fault_delete, name="fault_delete"),
]
