"""Accounts pages: thin views over ``accounts.selectors`` (reading) and ``accounts.services``
(doing). Every object comes through a selector, so an account the user may not see is a 404.
Permission is the service's: a POST always reaches the service (through
:func:`bearsms_portal.pages.run_service`), whose ``PermissionDenied`` is the 403 page and
whose refusal is audited. ``can()`` only decides what a page shows (buttons, a form on GET)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from bearsms_portal.bearsms import Op
from bearsms_portal.pages import run_service
from bearsms_portal.paging import configure_table

from . import balances, configuration, exports, services, zones
from .audit import ACCOUNTTHRESHOLD, CREDITSETTLE, CREDITTRANSFER, PORTALINVITE
from .demo import sandbox_keywords
from .errors import NEW_ACCOUNT_ACL, linking_steps
from .filters import AccountFilter, AuditFilter, LedgerFilter
from .forms import (
    AccountCreateForm,
    AccountImportForm,
    ConfForm,
    ConfirmForm,
    InjectForm,
    LinkForm,
    ParentSetForm,
    PrefForm,
    StoplistForm,
    TimeZoneForm,
    ZoneRecordForm,
)
from .invitations import logins_of
from .models import BearSMSAccount
from .permissions import can
from .roles import Role, account_of, profile_of, role_of
from .selectors import (
    accounts_visible_to,
    audit_entries_visible_to,
    ledger_entries_visible_to,
    stoplist_entries,
    transfers_visible_to,
)
from .tables import AccountTable, AuditTable, LedgerTable
from .transfers import available_balance

Level = BearSMSAccount.Level


def _account(request, pk) -> BearSMSAccount:
    return get_object_or_404(accounts_visible_to(request.user), pk=pk)


def _offered(request, action, account=None) -> None:
    """Show the page of ``action`` (its form, its confirmation) only to who may run it — as a
    template hides a button. Only for showing: a POST goes to the service, which decides."""
    if not can(request.user, action, account):
        raise PermissionDenied


def _require_role(request, *roles) -> None:
    if role_of(request.user) not in roles:
        raise PermissionDenied


def _form_page(request, form, *, title, submit, account=None, intro="", danger=False):
    return render(
        request,
        "accounts/form.html",
        {
            "form": form,
            "title": title,
            "submit": submit,
            "account": account,
            "intro": intro,
            "danger": danger,
        },
    )


# --- lists ---------------------------------------------------------------------------------------


@login_required
def account_list(request):
    role = role_of(request.user)
    if role == Role.SUBACCOUNT:
        return redirect("accounts:detail", pk=account_of(request.user).pk)
    _require_role(request, Role.OPERATOR, Role.RESELLER)
    queryset = balances.with_balances(accounts_visible_to(request.user))
    filterset = AccountFilter(request.GET or None, queryset=queryset, user=request.user)
    table = AccountTable(filterset.qs)
    configure_table(request, table)
    return render(
        request,
        "accounts/list.html",
        {
            "filter": filterset,
            "table": table,
            "role": role,
            "can_create": can(request.user, "accountadd"),
            "can_import": can(request.user, "accountimport"),
            "own": account_of(request.user),
        },
    )


@login_required
def account_list_export(request):
    _require_role(request, Role.OPERATOR, Role.RESELLER)
    filterset = AccountFilter(
        request.GET or None, queryset=accounts_visible_to(request.user), user=request.user
    )
    return exports.accounts_csv(filterset.qs)


def _filtered(request, filter_class, selector):
    """The filter set over what ``request.user`` may see (operators and resellers only)."""
    _require_role(request, Role.OPERATOR, Role.RESELLER)
    return filter_class(request.GET or None, queryset=selector(request.user))


def _table_page(request, template, filterset, table_class):
    table = table_class(filterset.qs)
    configure_table(request, table)
    return render(request, template, {"filter": filterset, "table": table})


@login_required
def audit_log(request):
    filterset = _filtered(request, AuditFilter, audit_entries_visible_to)
    return _table_page(request, "accounts/audit.html", filterset, AuditTable)


@login_required
def audit_export(request):
    return exports.audit_csv(_filtered(request, AuditFilter, audit_entries_visible_to).qs)


@login_required
def ledger(request):
    filterset = _filtered(request, LedgerFilter, ledger_entries_visible_to)
    return _table_page(request, "accounts/ledger.html", filterset, LedgerTable)


@login_required
def ledger_export(request):
    return exports.ledger_csv(_filtered(request, LedgerFilter, ledger_entries_visible_to).qs)


# --- one account ---------------------------------------------------------------------------------

ACTIONS = (
    Op.ACCOUNTBAN,
    Op.ACCOUNTUNBAN,
    Op.ACCOUNTREMOVE,
    Op.ACCOUNTPREF,
    Op.ACCOUNTCONF,
    Op.PARENTSET,
    Op.PARENTGET,
    Op.CREDITVIEW,
    Op.CREDITADD,
    Op.CREDITDEDUCT,
    CREDITTRANSFER,
    Op.LOGINKEYSET,
    Op.SET_TOKEN,
    Op.GET_TOKEN,
    PORTALINVITE,
    ACCOUNTTHRESHOLD,
    CREDITSETTLE,
)


@login_required
def account_detail(request, pk):
    account = _account(request, pk)
    user = request.user
    visible = accounts_visible_to(user)
    return render(
        request,
        "accounts/detail.html",
        {
            "account": account,
            "may": {action: can(user, action, account) for action in ACTIONS},
            "parent_visible": account.parent_id and visible.filter(pk=account.parent_id).exists(),
            "subaccounts": visible.filter(parent=account),
            "audit_entries": audit_entries_visible_to(user).filter(
                Q(target=account) | Q(action=CREDITTRANSFER, details__params__from=account.username)
            )[:10],
            "ledger_entries": ledger_entries_visible_to(user).filter(account=account)[:10],
            "blocked_by_ban": services.banned_by(account) is not None,
            "has_pending_password": bool(account.pending_password_encrypted),
            "balance": balances.balance_of(account),
            "conf_rows": configuration.display(account),
            "linking_steps": linking_steps(account.username),
            "new_account_acl": NEW_ACCOUNT_ACL,
            "available_balance": available_balance(account),
            "transfers": transfers_visible_to(user).filter(Q(source=account) | Q(target=account))[
                :10
            ],
            "logins": logins_of(account) if can(user, "portalinvite", account) else None,
        },
    )


@login_required
def account_audit_export(request, pk):
    account = _account(request, pk)
    return exports.audit_csv(
        audit_entries_visible_to(request.user).filter(target=account),
        filename=f"audit-{account.username}.csv",
    )


@login_required
def account_ledger_export(request, pk):
    account = _account(request, pk)
    return exports.ledger_csv(
        ledger_entries_visible_to(request.user).filter(account=account),
        filename=f"ledger-{account.username}.csv",
    )


@login_required
def account_create(request):
    fixed_parent = account_of(request.user) if role_of(request.user) == Role.RESELLER else None
    parents = accounts_visible_to(request.user).filter(level=Level.USER)
    form = AccountCreateForm(request.POST or None, parents=parents, fixed_parent=fixed_parent)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if fixed_parent is not None:
            data.update(level=Level.SUBACCOUNT, parent=fixed_parent)
        ran = run_service(request, services.account_create, form=form, **data)
        if ran:
            account = ran.result
            if account.is_linked:
                messages.success(request, f"Account {account.username} created and linked.")
            else:
                messages.warning(
                    request,
                    f"Account {account.username} created, but not linked: {account.link_error}",
                )
            messages.info(request, NEW_ACCOUNT_ACL)
            return redirect("accounts:detail", pk=account.pk)
    _offered(request, "accountadd")
    title = "New subaccount" if fixed_parent else "New BearSMS account"
    return _form_page(request, form, title=title, submit="Create account")


@login_required
def account_import(request):
    form = AccountImportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ran = run_service(request, services.account_import, form=form, **form.cleaned_data)
        if ran:
            account = ran.result
            if account.is_linked:
                messages.success(request, f"{account.username} is linked.")
            else:
                messages.warning(
                    request, f"{account.username} added, not linked: {account.link_error}"
                )
            return redirect("accounts:detail", pk=account.pk)
    _offered(request, "accountimport")
    return _form_page(
        request,
        form,
        title="Link an existing BearSMS account",
        submit="Link account",
        intro="For an account created outside the portal. The portal checks that "
        "it exists and, with its password, obtains its token.",
    )


def _account_form(
    request,
    pk,
    action,
    *,
    make_form,
    service,
    done,
    to_kwargs=dict,
    title,
    submit,
    intro="",
    danger=False,
):
    """A form page for one service on one account: GET shows it, a valid POST runs it."""
    account = _account(request, pk)
    form = make_form(account, request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and run_service(
            request, service, form=form, account=account, **to_kwargs(form.cleaned_data)
        )
    ):
        messages.success(request, done(account, form.cleaned_data))
        return redirect("accounts:detail", pk=account.pk)
    _offered(request, action, account)
    return _form_page(
        request,
        form,
        title=title(account),
        submit=submit,
        account=account,
        intro=intro,
        danger=danger,
    )


@login_required
def account_link(request, pk):
    return _account_form(
        request,
        pk,
        "get_token",
        make_form=lambda acc, data: LinkForm(
            data, has_pending=bool(acc.pending_password_encrypted)
        ),
        service=services.account_link,
        done=lambda acc, data: f"{acc.username} is linked.",
        title=lambda acc: f"Link {acc.username}",
        submit="Link now",
        intro="The portal asks BearSMS for the account's webservices token and keeps it encrypted.",
    )


def _confirm_page(
    request, pk, action, func, done, *, confirm_title, button, intro="", danger=False, typed=False
):
    """GET: a confirmation page; POST: run the service and go back to the account (its error,
    if any, shown there)."""
    account = _account(request, pk)
    form = ConfirmForm(request.POST or None, username=account.username, typed=typed)
    if request.method == "POST" and form.is_valid():
        if run_service(request, func, account=account, form_key=form.form_key):
            messages.success(request, done.format(username=account.username))
            if action == "accountremove":
                return redirect("accounts:list")
        return redirect("accounts:detail", pk=account.pk)
    _offered(request, action, account)
    return render(
        request,
        "accounts/confirm.html",
        {
            "account": account,
            "title": confirm_title,
            "button": button,
            "intro": intro,
            "form": form,
            "danger": danger,
        },
    )


@login_required
def account_ban(request, pk):
    return _confirm_page(
        request,
        pk,
        "accountban",
        services.account_ban,
        "{username} is banned.",
        confirm_title="Ban this account?",
        button="Ban",
        danger=True,
        intro="It can no longer send or use the API (nor can its subaccounts, if it has any).",
    )


@login_required
def account_unban(request, pk):
    return _confirm_page(
        request,
        pk,
        "accountunban",
        services.account_unban,
        "{username} is active again.",
        confirm_title="Unban this account?",
        button="Unban",
    )


@login_required
def account_remove(request, pk):
    return _confirm_page(
        request,
        pk,
        "accountremove",
        services.account_remove,
        "{username} was removed.",
        confirm_title="Remove this account?",
        button="Remove",
        danger=True,
        typed=True,
        intro="BearSMS deletes the account: its token stops working at once and its username "
        "becomes free. The portal keeps its audit log and ledger.",
    )


@login_required
def token_rotate(request, pk):
    return _confirm_page(
        request,
        pk,
        "set_token",
        services.token_rotate,
        "New token stored for {username}.",
        confirm_title="Rotate this account's token?",
        button="Rotate token",
        danger=True,
        intro="BearSMS mints a new token and the old one stops working at once (anything else "
        "using it will fail).",
    )


def _one_click(request, pk, func, success=None):
    """Run a one-click service on an account (a button on its page: POST, with CSRF); returns
    (result or None, account)."""
    account = _account(request, pk)
    if request.method != "POST":
        raise Http404
    ran = run_service(request, func, account=account)
    if ran and success:
        messages.success(request, success(account, ran.result))
    return ran.result, account


def _refreshed_message(account, balance) -> str:
    server = f"{balance.server_figure.normalize():f}"
    if balance.server_unreliable:
        return (
            f"Balance of {account.username}: {_amount(balance.balance)}. The server's cache says "
            f"{server}, which is not believed: {balance.server_note}"
        )
    return f"Balance of {account.username}: {_amount(balance.balance)} (the server's figure)."


def _amount(value) -> str:
    return "unknown" if value is None else f"{value.normalize():f}"


@login_required
def credit_refresh(request, pk):
    _, account = _one_click(
        request,
        pk,
        services.credit_refresh,
        _refreshed_message,
    )
    return redirect("accounts:detail", pk=account.pk)


@login_required
def parent_get(request, pk):
    _, account = _one_click(
        request,
        pk,
        services.parent_get,
        lambda acc, parent: (
            f"The server says the parent of {acc.username} is "
            f"{parent.username if parent else 'none'}."
        ),
    )
    return redirect("accounts:detail", pk=account.pk)


@login_required
def open_in_bearsms(request, pk):
    url, account = _one_click(request, pk, services.open_in_bearsms)
    # The URL holds a single-use login key: hand it to the browser, never log or show it.
    return redirect(url) if url else redirect("accounts:detail", pk=account.pk)


@login_required
def account_pref(request, pk):
    return _account_form(
        request,
        pk,
        "accountpref",
        make_form=lambda acc, data: PrefForm(
            data, initial={field: getattr(acc, field) for field in services.PREF_FIELDS}
        ),
        service=services.account_pref,
        done=lambda acc, data: "Preferences saved.",
        title=lambda acc: f"Preferences of {acc.username}",
        submit="Save",
        intro="BearSMS cannot clear a field, only change it; empty fields are left as they are.",
    )


@login_required
def account_conf(request, pk):
    return _account_form(
        request,
        pk,
        "accountconf",
        make_form=lambda acc, data: ConfForm(data, account=acc),
        service=services.account_conf,
        done=lambda acc, data: "Configuration saved.",
        title=lambda acc: f"Configuration of {acc.username}",
        submit="Save",
        intro="BearSMS has no way to show an account's configuration, so the portal only "
        "knows what it set itself (or a new account's defaults); fields marked unknown are left "
        "as they are on the server. Only the fields you change are sent, with the footer and "
        "sender ID, which the server clears whenever a call leaves them out.",
    )


@login_required
def account_zone_record(request, pk):
    return _account_form(
        request,
        pk,
        "accountconf",
        make_form=lambda acc, data: ZoneRecordForm(data, initial={"timezone_offset": acc.timezone}),
        service=services.account_zone_record,
        done=lambda acc, data: "Time zone recorded.",
        title=lambda acc: f"Time zone of {acc.username} in BearSMS",
        submit="Record",
        intro="Nothing is sent to BearSMS: this corrects the portal's record of the zone set in "
        "BearSMS (My account → User configuration), which the server uses for the account's "
        "scheduled sends and incoming times. Messages already stored keep their times.",
    )


@login_required
def parent_set(request, pk):
    def make_form(acc, data):
        parents = accounts_visible_to(request.user).filter(level=Level.USER).exclude(pk=acc.pk)
        return ParentSetForm(data, parents=parents, initial={"parent": acc.parent_id})

    return _account_form(
        request,
        pk,
        "parentset",
        make_form=make_form,
        service=services.parent_set,
        to_kwargs=lambda data: {"parent": data["parent"]},
        done=lambda acc, data: f"{acc.username} now belongs to {data['parent'].username}.",
        title=lambda acc: f"Move {acc.username} to reseller",
        submit="Move to reseller",
        danger=True,
        intro="BearSMS turns the account into a subaccount of the chosen reseller, whatever "
        "level it had.",
    )


# --- server-wide tools ---------------------------------------------------------------------------


@login_required
def inject(request):
    form = InjectForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and run_service(request, services.inject_message, form=form, **form.cleaned_data)
    ):
        messages.success(
            request,
            "Test message injected: it shows up in the keyword "
            "owner's incoming messages, or in the sandbox, in a few "
            "seconds.",
        )
        return redirect(reverse("accounts:inject"))
    _offered(request, "inject")
    return render(
        request,
        "accounts/inject.html",
        {
            "form": form,
            "title": "Inject a test incoming SMS",
            "submit": "Inject",
            "keywords": sandbox_keywords(),
        },
    )


STOPLIST_SHOWN = 200


@login_required
def stoplist(request):
    form = StoplistForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and run_service(request, services.stoplist_add, form=form, **form.cleaned_data)
    ):
        number = services.stoplist_digits(form.cleaned_data["number"])
        messages.success(request, f"{number} is on the stoplist.")
        return redirect(reverse("accounts:stoplist"))
    _offered(request, "stoplist")
    search = request.GET.get("q", "").strip()
    entries = stoplist_entries(request.user, search)
    return render(
        request,
        "accounts/stoplist.html",
        {
            "form": form,
            "search": search,
            "entries": entries[:STOPLIST_SHOWN],
            "count": entries.count(),
            "shown": STOPLIST_SHOWN,
            "server_url": settings.BEARSMS_URL,
        },
    )


# --- the user's own profile ----------------------------------------------------------------------


@login_required
def profile(request):
    """The user's own preferences (their time zone), for every role."""
    current = profile_of(request.user)
    form = TimeZoneForm(
        request.POST or None,
        initial={"time_zone": current.time_zone if current else ""},
        default_label=zones.zone_label(zones.default_zone()),
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and run_service(
            request,
            services.profile_set_time_zone,
            form=form,
            time_zone=form.cleaned_data["time_zone"],
        )
    ):
        zone = zones.time_zone_of(request.user)
        messages.success(request, f"Dates and times are now shown in {zones.zone_label(zone)}.")
        return redirect(reverse("accounts:profile"))
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "role": role_of(request.user),
            "own_account": account_of(request.user),
            "zone_label": zones.zone_label(zones.time_zone_of(request.user)),
        },
    )
