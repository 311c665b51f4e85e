from django.urls import path

from . import credit_views, login_views, views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("export.csv", views.account_list_export, name="list_export"),
    path("new/", views.account_create, name="create"),
    path("import/", views.account_import, name="import"),
    path("audit/", views.audit_log, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/export.csv", views.ledger_export, name="ledger_export"),
    path("tools/inject/", views.inject, name="inject"),
    path("tools/stoplist/", views.stoplist, name="stoplist"),
    path("profile/", views.profile, name="profile"),
    path("transfers/", credit_views.transfer_list, name="transfers"),
    path("transfers/attention/", credit_views.transfer_attention, name="transfers_attention"),
    path("transfers/<int:transfer_pk>/", credit_views.transfer_detail, name="transfer_detail"),
    path(
        "transfers/<int:transfer_pk>/settle/", credit_views.transfer_settle, name="transfer_settle"
    ),
    path("reconcile/", credit_views.credit_reconcile, name="reconcile"),
    # Everything below takes an account id and resolves it through accounts_visible_to().
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/audit.csv", views.account_audit_export, name="account_audit_export"),
    path("<int:pk>/ledger.csv", views.account_ledger_export, name="account_ledger_export"),
    path("<int:pk>/link-now/", views.account_link, name="link"),
    path("<int:pk>/ban/", views.account_ban, name="ban"),
    path("<int:pk>/unban/", views.account_unban, name="unban"),
    path("<int:pk>/remove/", views.account_remove, name="remove"),
    path("<int:pk>/prefs/", views.account_pref, name="prefs"),
    path("<int:pk>/conf/", views.account_conf, name="conf"),
    path("<int:pk>/zone/", views.account_zone_record, name="zone"),
    path("<int:pk>/parent/", views.parent_set, name="parent_set"),
    path("<int:pk>/parent/check/", views.parent_get, name="parent_get"),
    path("<int:pk>/credit/refresh/", views.credit_refresh, name="credit_refresh"),
    path("<int:pk>/credit/add/", credit_views.credit_add, name="credit_add"),
    path("<int:pk>/credit/deduct/", credit_views.credit_deduct, name="credit_deduct"),
    path("<int:pk>/credit/transfer/", credit_views.credit_transfer, name="credit_transfer"),
    path("<int:pk>/credit/threshold/", credit_views.low_balance_threshold, name="threshold"),
    path("<int:pk>/logins/", login_views.account_logins, name="logins"),
    path(
        "<int:pk>/logins/<int:invitation_pk>/resend/",
        login_views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "<int:pk>/logins/<int:invitation_pk>/revoke/",
        login_views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("<int:pk>/token/rotate/", views.token_rotate, name="token_rotate"),
    path("<int:pk>/open/", views.open_in_bearsms, name="open"),
]
