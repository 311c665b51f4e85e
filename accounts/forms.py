"""Forms of the accounts pages. Validation that needs the server or the database lives in the
services; forms only shape input (and show the services' errors next to the right field)."""

from __future__ import annotations

from django import forms

from bearsms_portal.phone import InvalidNumber, normalize_number
from bearsms_portal.widgets import style_widgets

from . import amounts, configuration, countries, zones
from .errors import ServiceError
from .idempotency import OneTimeKeyMixin
from .models import BearSMSAccount
from .services import (
    COUNTRY_RULE,
    MIN_PASSWORD,
    NOT_CLEARED,
    PREF_FIELDS,
    REPLACE_ZERO_RULE,
    is_replace_zero,
    validate_username,
)
from .zones import offset_choices

Level = BearSMSAccount.Level


BLANK = "---------"


def _name_the_blank_choice(field) -> None:
    """A select's empty choice says what to choose ("Choose reseller…"), never ``---------``."""
    label = f"Choose {str(field.label or 'one').lower()}…"
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label == BLANK:
            field.empty_label = label
    elif isinstance(field, forms.ChoiceField):
        choices = list(field.choices)
        if choices and choices[0][0] == "" and choices[0][1] == BLANK:
            field.choices = [("", label), *choices[1:]]


class BootstrapMixin:
    """Bootstrap 5 classes on every widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields.values())
        for field in self.fields.values():
            _name_the_blank_choice(field)

    @property
    def reentry_fields(self) -> list[str]:
        """Password fields of a form sent back with errors: they come back empty, by design."""
        if not (self.is_bound and self.errors):
            return []
        return [
            str(field.label)
            for field in self.fields.values()
            if isinstance(field.widget, forms.PasswordInput)
        ]

    def add_service_error(self, error) -> None:
        """Show a ServiceError next to its field, or at the top of the form."""
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)


class Form(BootstrapMixin, forms.Form):
    pass


def _emptied(form, fields, current) -> None:
    """A field sent empty while it holds a value: an error on it, since the server ignores
    empty values (the portal would otherwise record an empty field the server still holds)."""
    for field in fields:
        sent = form.data.get(form.add_prefix(field))
        if sent is not None and not str(sent).strip() and current.get(field) not in ("", None):
            form.add_error(field, NOT_CLEARED)


class WriteForm(OneTimeKeyMixin, Form):
    """A form whose submission writes to BearSMS: it carries a one-time key, so sending it
    twice applies it once (``accounts.idempotency``)."""


def _checked(rule, value, *args):
    """Run a service's input rule in a form's ``clean_<field>``, so that the form reports every
    field's problem at once (the service checks the same rule again, stopping at the first)."""
    try:
        return rule(value, *args)
    except ServiceError as exc:
        raise forms.ValidationError(exc.message) from None


def _offset_field(label: str, help_text: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, required=False, choices=offset_choices, help_text=help_text
    )


def _zone_choices(current: str | None, *, known: bool) -> list[tuple[str, str]]:
    """The offsets of :func:`offset_choices`; an unknown value starts on "leave as it is", and
    a stored offset the list lacks (``+0715``) is kept as a choice so it is never changed
    unasked."""
    choices = offset_choices()
    if current and current not in {value for value, _ in choices}:
        choices.append((current, f"UTC{current[:3]}:{current[3:]}"))
    if not known:
        choices[0] = ConfForm.UNKNOWN_CHOICE
    return choices


def _password(required=True, label="Password", help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        strip=False,
        min_length=MIN_PASSWORD if required else None,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


class AccountCreateForm(WriteForm):
    username = forms.CharField(
        max_length=30, help_text="3–30 lowercase letters, digits, dots, dashes or underscores."
    )
    password = _password(help_text=f"At least {MIN_PASSWORD} characters.")
    name = forms.CharField(max_length=100)
    email = forms.EmailField(max_length=250)
    mobile = forms.CharField(max_length=16, required=False)
    level = forms.TypedChoiceField(choices=Level.choices, coerce=int, initial=Level.USER)
    parent = forms.ModelChoiceField(
        queryset=BearSMSAccount.objects.none(),
        required=False,
        help_text="Required for a subaccount: the reseller it belongs to.",
    )
    timezone_offset = _offset_field(
        "Time zone", "The UTC offset BearSMS stores for the account (+HHMM)."
    )
    language = forms.CharField(max_length=20, required=False, help_text="e.g. en_US")

    def __init__(self, *args, parents=None, fixed_parent=None, **kwargs):
        super().__init__(*args, **kwargs)
        if fixed_parent is not None:
            # Resellers create subaccounts under their own account only.
            del self.fields["level"]
            del self.fields["parent"]
        else:
            self.fields["parent"].queryset = parents

    def clean_username(self):
        return _checked(validate_username, self.cleaned_data["username"].strip().lower())

    def clean_mobile(self):
        mobile = self.cleaned_data["mobile"].strip()
        try:
            return normalize_number(mobile) if mobile else ""
        except InvalidNumber as exc:
            raise forms.ValidationError(str(exc)) from None


class AccountImportForm(WriteForm):
    username = forms.CharField(max_length=30)
    password = _password(
        required=False,
        help_text="The account's BearSMS password; without it the account is added not linked.",
    )
    level = forms.TypedChoiceField(
        choices=[(Level.USER, Level.USER.label), (Level.ADMIN, Level.ADMIN.label)],
        coerce=int,
        initial=Level.USER,
        help_text="Used when the server cannot tell (subaccounts are found by their parent).",
    )
    timezone_offset = _offset_field(
        "Time zone in BearSMS",
        "As set in BearSMS for this account; default: the server's zone. The server shifts "
        "the account's message times by it.",
    )

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class LinkForm(WriteForm):
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="The account's BearSMS password.",
    )

    def __init__(self, *args, has_pending=False, **kwargs):
        super().__init__(*args, **kwargs)
        if has_pending:
            self.fields[
                "password"
            ].help_text = "Leave empty to use the password the portal set for this account."


class PrefForm(WriteForm):
    name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(max_length=250, required=False)
    mobile = forms.CharField(max_length=16, required=False)
    address = forms.CharField(max_length=250, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=100, required=False)
    country = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Sent as BearSMS's number for the country.",
        error_messages={"invalid_choice": COUNTRY_RULE},
    )
    zipcode = forms.CharField(max_length=10, required=False)
    password = _password(
        required=False, label="New password", help_text="Leave empty to keep the current password."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = countries.select_choices(self.initial.get("country"))

    def clean(self):
        data = super().clean()
        _emptied(self, PREF_FIELDS, self.initial)
        return data


class ConfForm(WriteForm):
    """The configuration page. Fields whose server value the portal does not know start empty
    and marked unknown; left empty they are left as they are on the server. Footer and sender
    are always sent, so when unknown they must be typed (or confirmed empty)."""

    ON_OFF = [("1", "on"), ("0", "off")]
    UNKNOWN_CHOICE = ("", "unknown — leave as it is")

    sender = forms.CharField(
        max_length=100, required=False, help_text="Must be a sender ID registered to the account."
    )
    sender_empty = forms.BooleanField(
        required=False, label="The account has no sender ID on the server"
    )
    footer = forms.CharField(max_length=30, required=False)
    footer_empty = forms.BooleanField(required=False, label="The account has no footer")
    timezone = _offset_field(
        "Time zone",
        "The UTC offset BearSMS stores (+HHMM), listed with the zones that have it now. "
        "Negative offsets count as +0000 on the server.",
    )
    language = forms.CharField(max_length=20, required=False)
    fwd_to_inbox = forms.TypedChoiceField(label="Forward to inbox", required=False)
    fwd_to_email = forms.TypedChoiceField(label="Forward to email", required=False)
    fwd_to_mobile = forms.TypedChoiceField(label="Forward to mobile", required=False)
    local_length = forms.IntegerField(min_value=0, max_value=19, required=False)
    replace_zero = forms.CharField(
        max_length=10, required=False, help_text="Prefix that replaces a leading 0 (e.g. 62)."
    )

    def __init__(self, data=None, *, account: BearSMSAccount, **kwargs):
        self.account = account
        self.known = configuration.known_fields(account)
        initial = {}
        for field, value in configuration.known_values(account).items():
            initial[field] = ("1" if value else "0") if field in configuration.BOOLEANS else value
        super().__init__(data, initial=initial, **kwargs)
        for field in configuration.FIELDS:
            form_field = self.fields[field]
            if field in configuration.BOOLEANS:
                choices = list(self.ON_OFF)
                if field not in self.known:
                    choices.insert(0, self.UNKNOWN_CHOICE)
                form_field.choices = choices
            elif field == "timezone":
                form_field.choices = _zone_choices(initial.get(field), known=field in self.known)
            elif field not in self.known:
                form_field.widget.attrs["placeholder"] = "unknown — leave empty to keep it"
                form_field.help_text = " ".join(
                    filter(None, [configuration.UNKNOWN_MESSAGES.get(field), form_field.help_text])
                )
        for field in configuration.ALWAYS_SENT:
            if field in self.known:
                del self.fields[f"{field}_empty"]

    def clean_timezone(self) -> str:
        value = self.cleaned_data["timezone"].strip()
        if value and not zones.is_offset(value):
            raise forms.ValidationError(zones.OFFSET_RULE)
        return value

    def clean_replace_zero(self) -> str:
        value = self.cleaned_data["replace_zero"].strip()
        if value and not is_replace_zero(value):
            raise forms.ValidationError(REPLACE_ZERO_RULE)
        return value

    def clean(self) -> dict:
        """The cleaned data are the service's keyword arguments: ``None`` for every field to
        leave as it is on the server."""
        current = configuration.known_values(self.account)
        _emptied(self, configuration.NOT_CLEARABLE, current)
        data = super().clean()
        values = {}
        for field in configuration.FIELDS:
            value = data.get(field)
            if field in configuration.BOOLEANS:
                values[field] = None if value in ("", None) else value == "1"
            elif field in self.known:
                values[field] = "" if value is None else value
            else:
                values[field] = None if value in ("", None) else value
        for field in configuration.ALWAYS_SENT:
            if data.get(f"{field}_empty"):
                values[field] = ""
        return values


class ZoneRecordForm(Form):
    timezone_offset = _offset_field(
        "Time zone in BearSMS", "As set in BearSMS (the server's zone: it follows the server)."
    )


class ParentSetForm(WriteForm):
    parent = forms.ModelChoiceField(queryset=BearSMSAccount.objects.none())
    confirm = forms.BooleanField(
        label="I understand the account becomes a subaccount of this reseller.",
    )

    def __init__(self, *args, parents=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents


class CreditForm(WriteForm):
    amount = amounts.amount_form_field()
    reason = forms.CharField(max_length=250)


class CreditMoveForm(CreditForm):
    DIRECTIONS = [
        ("to_sub", "From the reseller to this subaccount"),
        ("from_sub", "From this subaccount back to the reseller"),
    ]
    direction = forms.ChoiceField(choices=DIRECTIONS, initial="to_sub")
    field_order = ["direction", "amount", "reason"]


class ConfirmForm(WriteForm):
    """Confirmation pages (ban, unban, remove, token rotation); with ``typed=True`` the
    username must be typed to confirm."""

    confirm_username = forms.CharField(label="Type the username to confirm")

    def __init__(self, *args, username="", typed=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.username = username
        if not typed:
            del self.fields["confirm_username"]

    def clean_confirm_username(self):
        value = self.cleaned_data["confirm_username"].strip()
        if value != self.username:
            raise forms.ValidationError("This is not the account's username.")
        return value


class InjectForm(WriteForm):
    sender = forms.CharField(max_length=20, help_text="The number the message comes from.")
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)
    recvnum = forms.CharField(max_length=20, required=False, label="Receiver number")
    smsc = forms.CharField(max_length=50, required=False, label="SMSC")


class StoplistForm(WriteForm):
    # No tight length limit: people type spaces and dashes ("+62 812-7777-0001"); the service
    # keeps the digits and refuses what is not a number.
    number = forms.CharField(
        max_length=100,
        help_text="Spaces, dashes and a leading + are fine: the portal sends the digits the "
        "server stores.",
    )


class TimeZoneForm(Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Every date and time the portal shows you, and every one you type (such as a "
        "scheduled send), is in this zone.",
    )

    def __init__(self, *args, default_label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [
            ("", f"Portal default — {default_label}"),
            *((name, name) for name in zones.zone_names()),
        ]


class OnceForm(WriteForm):
    """A form whose POST moves money: its one-time key (``accounts.idempotency``) makes a
    second POST harmless, and it carries the operator's confirmation of an overdraft (second
    step)."""

    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class CreditAmountForm(OnceForm):
    amount = amounts.amount_form_field()
    reason = forms.CharField(max_length=250)


class TransferForm(OnceForm):
    """Transfer credit: resellers choose the direction, operators any two accounts."""

    DIRECTIONS = CreditMoveForm.DIRECTIONS
    direction = forms.ChoiceField(choices=DIRECTIONS, initial="to_sub")
    source = forms.ModelChoiceField(queryset=BearSMSAccount.objects.none(), label="From")
    target = forms.ModelChoiceField(queryset=BearSMSAccount.objects.none(), label="To")
    amount = amounts.amount_form_field()
    reason = forms.CharField(max_length=250)
    field_order = ["direction", "source", "target", "amount", "reason"]

    def __init__(self, *args, accounts=None, pair=True, **kwargs):
        super().__init__(*args, **kwargs)
        if pair:
            del self.fields["source"], self.fields["target"]
        else:
            del self.fields["direction"]
            self.fields["source"].queryset = accounts
            self.fields["target"].queryset = accounts


class SettleForm(Form):
    decision = forms.ChoiceField(
        choices=[
            ("applied", "The server shows this step applied"),
            ("not_applied", "The server shows this step not applied"),
            ("recheck", "Check the server again"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        max_length=500, help_text="What you checked on the server (goes into the audit log)."
    )


class ThresholdForm(Form):
    low_balance_threshold = amounts.amount_form_field(
        signed=True,
        label="Low balance threshold",
        help_text="The reseller's home lists this subaccount when its available balance is at "
        "or below this figure.",
    )


class InviteForm(Form):
    username = forms.CharField(max_length=150, help_text="The portal login name.")
    email = forms.EmailField(
        max_length=250, required=False, help_text="The invitation link is e-mailed here too."
    )


class AcceptInvitationForm(Form):
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data
