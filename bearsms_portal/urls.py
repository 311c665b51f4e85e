"""Root URLs. Each app mounts its own urls module; the sandbox only when it is enabled."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic.base import RedirectView

from accounts import login_views
from accounts.auth_views import urlpatterns as account_auth_urls

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # browsers ask for /favicon.ico whatever the page says
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}portal/favicon.svg")),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include(account_auth_urls)),
    path("invite/<str:token>/", login_views.accept_invitation, name="accept_invitation"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("messages/", include("messaging.urls")),
    path("send/", include("messaging.send_urls")),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("bearsms_portal.sandbox.urls")))
