from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "bearsms_portal.sandbox"
    label = "sandbox"
    verbose_name = "BearSMS sandbox"
