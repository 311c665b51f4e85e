"""Forms of the sending pages. They shape input; the rules live in
``messaging.services.sending`` and its errors are shown next to the right field."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from accounts.forms import BootstrapMixin
from accounts.idempotency import OneTimeKeyMixin
from accounts.zones import zone_label

from .models import Send


class ScheduleMixin(forms.Form):
    """The "Send at" field of every sending form: a date and time in the user's own zone
    (the zone the request runs in), made aware in that zone; the service refuses a time in
    the past or more than a year ahead, and the client writes it in the account's zone."""

    schedule = forms.DateTimeField(
        label="Send at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone()
        self.fields[
            "schedule"
        ].help_text = (
            f"Empty: now. In your time zone, {zone_label(zone)} (change it on your profile)."
        )

    @property
    def scheduled_zone(self) -> str:
        """The zone the picked time was read in ("" when sending now)."""
        if not self.cleaned_data.get("schedule"):
            return ""
        return timezone.get_current_timezone_name()


class ComposeForm(OneTimeKeyMixin, BootstrapMixin, ScheduleMixin, forms.Form):
    """The compose form; its one-time key makes a resent form find the send it made."""

    account = forms.TypedChoiceField(
        label="Send as",
        coerce=int,
        error_messages={
            "invalid_choice": "You cannot send as this account now: see the accounts listed "
            "as unavailable, with the reason."
        },
    )
    recipients = forms.CharField(
        label="Recipients",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="Numbers separated by commas, spaces or new lines; @username for another "
        "account's inbox; #groupcode for a phonebook group. Type 2 letters to search the "
        "phonebook.",
    )
    text = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 5}),
        strip=False,
    )
    sender = forms.CharField(
        label="Sender ID",
        required=False,
        max_length=16,
        help_text="Leave empty for the account's sender ID.",
    )
    footer = forms.BooleanField(label="Add the account's footer", required=False, initial=True)
    message_type = forms.ChoiceField(
        label="Type",
        choices=Send.MessageType.choices,
        initial=Send.MessageType.TEXT,
        widget=forms.RadioSelect,
        help_text="Flash messages show on the screen at once and are usually not stored.",
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, accounts=(), unavailable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.accounts = {a.pk: a for a in accounts}
        self.unavailable = {item.account.pk: item for item in unavailable}
        # Unavailable accounts are valid choices, never offered: a form opened before the
        # account was banned (or unlinked) is then refused with the account's own reason.
        field = self.fields["account"]
        field.choices = [
            (a.pk, f"{a.username} ({a.get_level_display().lower()})") for a in accounts
        ] + [(pk, "") for pk in self.unavailable]
        field.widget.choices = field.choices[: len(self.accounts)]
        self.fields["message_type"].widget.attrs["class"] = "form-check-input"

    def clean_account(self):
        pk = self.cleaned_data["account"]
        if pk in self.unavailable:
            item = self.unavailable[pk]
            raise forms.ValidationError(
                f"Not sent: you cannot send as {item.account.username}. {item.reason}"
            )
        return self.accounts[pk]


class ResolveForm(forms.Form):
    submitted = forms.TypedChoiceField(
        choices=[("1", "It arrived"), ("0", "It was not sent")], coerce=lambda v: v == "1"
    )
