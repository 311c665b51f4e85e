"""URLconf for ``runsandbox``: the sandbox alone, at the server root (``/index.php?app=ws``)."""

from django.urls import include, path

urlpatterns = [path("", include("bearsms_portal.sandbox.urls"))]
