from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from bearsms_portal import health

        from .clients import guard_health

        health.register("auth_guard", guard_health)
        user_logged_out.connect(_say_logged_out, dispatch_uid="accounts.logged_out_message")


def _say_logged_out(sender, request, user, **kwargs):
    """The login page says the logout worked (a message after every action)."""
    from django.contrib import messages

    if request is not None and hasattr(request, "_messages"):
        messages.info(request, "You are logged out.")
