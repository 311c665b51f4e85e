"""Forms of the bulk send pages: they shape input; the rules live in ``services.bulk``."""

from __future__ import annotations

from django import forms

from accounts.forms import BootstrapMixin, Form
from accounts.idempotency import OneTimeKeyMixin

from .forms import ScheduleMixin


class StartForm(OneTimeKeyMixin, BootstrapMixin, ScheduleMixin, forms.Form):
    """The "Send N messages" button: when (now, or a time in the user's zone), an operator's
    "send anyway" over a short known balance, and the key."""

    confirmed = forms.BooleanField(
        label="Send anyway: I know the balance is enough", required=False
    )


class RecipientFileForm(OneTimeKeyMixin, Form):
    account = forms.ModelChoiceField(
        queryset=None, label="Send as", help_text="Linked accounts that are not banned."
    )
    file = forms.FileField(
        label="Recipient file",
        help_text="CSV (comma, semicolon or tab separated) or Excel .xlsx; the first sheet is "
        "read. One recipient a row.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
    )

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        if accounts.count() == 1:
            self.fields["account"].initial = accounts.first()


class MappingForm(Form):
    header = forms.BooleanField(label="The first row holds column names", required=False)
    number_column = forms.TypedChoiceField(coerce=int, label="Number column")
    text = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Use {field} to put a column's value into the text, e.g. Hello {name}.",
    )
    sender = forms.CharField(label="Sender ID", required=False, max_length=16)
    footer = forms.BooleanField(label="Append the account's footer", required=False)
    flash = forms.BooleanField(
        label="Flash SMS (shown at once, not stored by the phone)", required=False
    )

    def __init__(self, *args, columns: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number_column"].choices = columns
