"""Read-mostly Django admin views of the sandbox (secrets are never shown)."""

from django.contrib import admin

from .models import FaultRule, RequestLog, SandboxUser


@admin.register(SandboxUser)
class SandboxUserAdmin(admin.ModelAdmin):
    list_display = (
        "username",
        "status",
        "parent",
        "enable_webservices",
        "credit",
        "banned_at",
        "deleted",
    )
    list_filter = ("status", "deleted", "enable_webservices")
    search_fields = ("username", "email", "name")
    exclude = ("token", "login_key", "password_hash")
    raw_id_fields = ("parent",)


@admin.register(RequestLog)
class RequestLogAdmin(admin.ModelAdmin):
    list_display = (
        "created",
        "op",
        "username",
        "http_status",
        "result",
        "fault",
        "profile",
        "duration_ms",
    )
    list_filter = ("op", "http_status", "fault", "profile")
    readonly_fields = [f.name for f in RequestLog._meta.fields]


@admin.register(FaultRule)
class FaultRuleAdmin(admin.ModelAdmin):
    list_display = (
        "op",
        "latency_ms",
        "http500",
        "garbage",
        "html_error",
        "hang",
        "lost_reply",
        "applied_500",
    )
