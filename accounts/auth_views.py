"""Django's own password views (change, reset by e-mail), styled, each leaving one audit entry."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.urls import path, reverse_lazy
from django.utils import timezone

from .audit import audited
from .forms import BootstrapMixin
from .zones import mail_time, time_zone_of


def _audit(user, action: str, message: str) -> None:
    with audited(actor=user, action=action) as audit:
        audit.succeeded(message)


def _styled(form_class):
    return type(form_class.__name__, (BootstrapMixin, form_class), {})


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("password_change_done")

    def get_form_class(self):
        return _styled(super().get_form_class())

    def form_valid(self, form):
        response = super().form_valid(form)
        _audit(self.request.user, "password_change", "Changed their own password.")
        return response


class _ResetForm(PasswordResetForm):
    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        """The e-mail says until when its link works, in the recipient's own zone."""
        until = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
        context["valid_until"] = mail_time(until, time_zone_of(context["user"]))
        super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    success_url = reverse_lazy("password_reset_done")
    form_class = _ResetForm

    def get_form_class(self):
        return _styled(super().get_form_class())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password_reset_complete")

    def get_form_class(self):
        return _styled(super().get_form_class())

    def form_valid(self, form):
        response = super().form_valid(form)
        _audit(form.user, "password_reset", "Set a new password through a reset e-mail.")
        return response


urlpatterns = [
    path("password/change/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
