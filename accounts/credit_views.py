"""Credit pages: add, deduct and transfer forms (each showing the balance now and after, with the
operator's overdraft confirmation as a second step), transfers, the needs-attention page with
its settle-by-hand buttons, and the reconciliation page. Thin: services decide, selectors read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from bearsms_portal.pages import run_service

from . import reconcile, services, transfers
from .forms import CreditAmountForm, SettleForm, ThresholdForm, TransferForm
from .models import BearSMSAccount, CreditTransfer
from .permissions import can
from .roles import Role, role_of
from .selectors import accounts_visible_to, credit_checks_visible_to, transfers_visible_to
from .views import _account, _offered, _require_role

Level = BearSMSAccount.Level
State = CreditTransfer.State


def _balances(*accounts):
    return [(a, transfers.available_balance(a)) for a in accounts]


def _credit_page(request, form, *, account, title, submit, balances, confirm=None, intro=""):
    return render(
        request,
        "accounts/credit_form.html",
        {
            "form": form,
            "account": account,
            "title": title,
            "submit": submit,
            "balances": balances,
            "confirm": confirm,
            "intro": intro,
        },
    )


def _or_confirmation(service):
    """``service``, answering the operator's overdraft with the exception instead of raising,
    so the page can ask for the confirmation step (every other error goes to the form)."""

    def call(**kwargs):
        try:
            return service(**kwargs)
        except transfers.NeedsConfirmation as exc:
            return exc

    return call


def _confirm_step(form, exc: transfers.NeedsConfirmation, account) -> dict:
    """The second step: the same values, confirmed, with the resulting balance stated."""
    form.data = form.data.copy()
    form.data["confirmed"] = "on"
    return {
        "account": account,
        "available": exc.available,
        "resulting": exc.resulting,
        "amount": form.cleaned_data["amount"],
    }


def _credit_form(request, pk, kind):
    account = _account(request, pk)
    if request.method != "POST":
        _offered(request, f"credit{kind}", account)
    form = CreditAmountForm(request.POST or None)
    confirm = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        service = services.credit_add if kind == "add" else services.credit_deduct
        extra = {"confirmed": data["confirmed"]} if kind == "deduct" else {}
        ran = run_service(
            request,
            _or_confirmation(service),
            form=form,
            account=account,
            amount=data["amount"],
            reason=data["reason"],
            **extra,
        )
        if isinstance(ran.result, transfers.NeedsConfirmation):
            confirm = _confirm_step(form, ran.result, account)
        elif ran:
            verb = "Added" if kind == "add" else "Deducted"
            messages.success(
                request,
                f"{verb} {transfers.fmt(data['amount'])}: {account.username} now has "
                f"{transfers.fmt(transfers.available_balance(account))} available.",
            )
            return redirect("accounts:detail", pk=account.pk)
    title = "Add credit" if kind == "add" else "Deduct credit"
    return _credit_page(
        request,
        form,
        account=account,
        title=f"{title}: {account.username}",
        submit=title,
        balances=[(account, transfers.available_balance(account), -1 if kind == "deduct" else 1)],
        confirm=confirm,
        intro="Every credit move goes into the portal's ledger with its reason.",
    )


@login_required
def credit_add(request, pk):
    return _credit_form(request, pk, "add")


@login_required
def credit_deduct(request, pk):
    return _credit_form(request, pk, "deduct")


@login_required
def credit_transfer(request, pk):
    """Transfer credit from or to this account. Resellers: between their account and this
    subaccount; operators: between any two accounts."""
    account = _account(request, pk)
    operator = role_of(request.user) == Role.OPERATOR
    if operator:
        accounts = BearSMSAccount.objects.exclude(level=Level.ADMIN).order_by("username")
        initial = {"source": account.parent_id or account.pk, "target": account.pk}
        form = TransferForm(request.POST or None, accounts=accounts, pair=False, initial=initial)
    else:
        if account.parent is None:
            raise Http404
        if request.method != "POST":
            _offered(request, "credittransfer", account)
        form = TransferForm(request.POST or None)
    confirm = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if operator:
            source, target = data["source"], data["target"]
        elif data["direction"] == "to_sub":
            source, target = account.parent, account
        else:
            source, target = account, account.parent
        ran = run_service(
            request,
            _or_confirmation(services.credit_transfer),
            form=form,
            source=source,
            target=target,
            amount=data["amount"],
            reason=data["reason"],
            confirmed=data["confirmed"],
        )
        if isinstance(ran.result, transfers.NeedsConfirmation):
            confirm = _confirm_step(form, ran.result, source)
        elif ran:
            _transfer_message(request, ran.result)
            return redirect("accounts:detail", pk=account.pk)
    if operator:
        shown = [account] if account.parent is None else [account.parent, account]
    else:
        shown = [account.parent, account]
    return _credit_page(
        request,
        form,
        account=account,
        title=f"Transfer credit: {account.username}",
        submit="Transfer credit",
        balances=[(a, transfers.available_balance(a), 0) for a in shown],
        confirm=confirm,
        intro="The credit is deducted from one account and then added to the other; if the "
        "add fails the deduction is given back. Nothing is moved twice, even if this form is "
        "sent twice.",
    )


def _transfer_message(request, transfer: CreditTransfer) -> None:
    amount = transfers.fmt(transfer.amount)
    route = f"{transfer.source_username} to {transfer.target_username}"
    if transfer.state == State.DONE:
        messages.success(request, f"Moved {amount} from {route}.")
    elif transfer.state == State.REFUNDED:
        messages.error(request, f"Transfer #{transfer.pk} failed: nothing was moved ({route}).")
    elif transfer.state == State.ATTENTION:
        messages.warning(
            request,
            f"Transfer #{transfer.pk} needs attention: {transfer.attention_reason}",
        )
    else:
        messages.info(
            request,
            f"Transfer #{transfer.pk} of {amount} from {route} is in progress "
            "(the server did not answer yet); it finishes in the background.",
        )


# --- transfers -----------------------------------------------------------------------------------


@login_required
def transfer_list(request):
    _require_role(request, Role.OPERATOR, Role.RESELLER, Role.SUBACCOUNT)
    qs = transfers_visible_to(request.user)
    state = request.GET.get("state", "")
    if state in State.values:
        qs = qs.filter(state=state)
    return render(
        request,
        "accounts/transfers.html",
        {"transfers": qs[:200], "state": state, "states": State.choices},
    )


@login_required
def transfer_attention(request):
    """Transfers that need a person, with what is known and the buttons to settle them."""
    _offered(request, "creditsettle")
    qs = transfers_visible_to(request.user).filter(state=State.ATTENTION).order_by("created_at")
    rows = [(t, transfers.open_step(t), SettleForm(prefix=f"t{t.pk}")) for t in qs]
    return render(request, "accounts/transfers_attention.html", {"rows": rows})


@login_required
def transfer_detail(request, transfer_pk):
    transfer = get_object_or_404(transfers_visible_to(request.user), pk=transfer_pk)
    return render(
        request,
        "accounts/transfer_detail.html",
        {
            "transfer": transfer,
            "open_step": transfers.open_step(transfer),
            "may_settle": can(request.user, "creditsettle") and transfer.state == State.ATTENTION,
            "form": SettleForm(prefix=f"t{transfer.pk}"),
        },
    )


@login_required
def transfer_settle(request, transfer_pk):
    transfer = get_object_or_404(transfers_visible_to(request.user), pk=transfer_pk)
    if request.method != "POST":
        raise Http404
    form = SettleForm(request.POST, prefix=f"t{transfer.pk}")
    if not form.is_valid():
        messages.error(request, "Choose what the server shows and say what you checked.")
        return redirect("accounts:transfer_detail", transfer_pk=transfer.pk)
    ran = run_service(
        request,
        transfers.settle_by_hand,
        transfer=transfer,
        decision=form.cleaned_data["decision"],
        note=form.cleaned_data["note"],
    )
    if ran:
        _transfer_message(request, ran.result)
    return redirect("accounts:transfer_detail", transfer_pk=transfer.pk)


# --- reconciliation and thresholds --------------------------------------------------------------


@login_required
def credit_reconcile(request):
    """The latest reconciliation of every account; operators run a new one from here."""
    _require_role(request, Role.OPERATOR, Role.RESELLER)
    if request.method == "POST":
        ran = run_service(request, reconcile.reconcile_now)
        if ran:
            differ = sum(c.verdict == c.Verdict.DIFFERS for c in ran.result)
            messages.info(request, f"{len(ran.result)} account(s) checked, {differ} differ.")
        return redirect("accounts:reconcile")
    visible = accounts_visible_to(request.user)
    checks = reconcile.latest_checks(visible)
    return render(
        request,
        "accounts/reconcile.html",
        {
            "checks": checks,
            "history": credit_checks_visible_to(request.user)[:50],
            "may_run": can(request.user, "creditreconcile"),
            "live": transfers.server_figure_live(),
        },
    )


@login_required
def low_balance_threshold(request, pk):
    account = _account(request, pk)
    if request.method != "POST":
        _offered(request, "accountthreshold", account)
    form = ThresholdForm(
        request.POST or None, initial={"low_balance_threshold": account.low_balance_threshold}
    )
    if request.method == "POST" and form.is_valid():
        ran = run_service(
            request,
            services.set_low_balance_threshold,
            form=form,
            account=account,
            threshold=form.cleaned_data["low_balance_threshold"],
        )
        if ran:
            messages.success(request, "Threshold saved.")
            return redirect("accounts:detail", pk=account.pk)
    from .views import _form_page

    return _form_page(
        request,
        form,
        title=f"Low balance threshold of {account.username}",
        submit="Save",
        account=account,
    )
