"""Django admin for operators.

BearSMS accounts are changed through the portal's services only (so every change reaches the
server and the audit log): here they are read-only, with actions that call those services.
Portal roles are local and editable. The audit log and the credit ledger are read-only.
"""

from django.contrib import admin, messages

from . import services
from .errors import ServiceError
from .models import AuditEntry, BearSMSAccount, CreditLedgerEntry, PortalProfile
from .roles import is_operator


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # Operators (staff) may look, whatever their model permissions.
    def has_view_permission(self, request, obj=None):
        return is_operator(request.user)

    def has_module_permission(self, request):
        return is_operator(request.user)


def _service_action(service, done):
    def action(modeladmin, request, queryset):
        for account in queryset:
            try:
                service(actor=request.user, account=account)
            except ServiceError as exc:
                modeladmin.message_user(request, f"{account}: {exc.message}", messages.ERROR)
            else:
                modeladmin.message_user(request, f"{account}: {done}", messages.SUCCESS)

    return action


@admin.register(BearSMSAccount)
class BearSMSAccountAdmin(ReadOnlyAdmin):
    list_display = (
        "username",
        "level",
        "parent",
        "name",
        "email",
        "status",
        "is_linked",
        "credit",
        "credit_unreliable",
        "credit_read_at",
    )
    list_filter = ("level", "status")
    search_fields = ("username", "name", "email")
    exclude = ("token_encrypted", "pending_password_encrypted")
    actions = ["refresh_credit", "ban", "unban"]

    @admin.display(boolean=True, description="linked")
    def is_linked(self, obj):
        return obj.is_linked

    @admin.action(description="Refresh credit from BearSMS")
    def refresh_credit(self, request, queryset):
        _service_action(services.credit_refresh, "credit refreshed")(self, request, queryset)

    @admin.action(description="Ban on BearSMS")
    def ban(self, request, queryset):
        _service_action(services.account_ban, "banned")(self, request, queryset)

    @admin.action(description="Unban on BearSMS")
    def unban(self, request, queryset):
        _service_action(services.account_unban, "unbanned")(self, request, queryset)


@admin.register(PortalProfile)
class PortalProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "account", "time_zone")
    list_filter = ("role",)
    search_fields = ("user__username", "account__username")
    raw_id_fields = ("user", "account")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "actor_username",
        "action",
        "target_username",
        "outcome",
        "error_code",
        "message",
    )
    list_filter = ("outcome", "action")
    search_fields = ("target_username", "actor_username", "message")
    date_hierarchy = "created_at"


@admin.register(CreditLedgerEntry)
class CreditLedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "account_username", "kind", "amount", "reason", "actor_username")
    list_filter = ("kind",)
    search_fields = ("account_username", "reason")
    date_hierarchy = "created_at"
