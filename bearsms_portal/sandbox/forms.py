"""The staff page's form for one op's fault switches."""

from django import forms


class FaultRuleForm(forms.Form):
    op = forms.CharField(max_length=50, initial="*", help_text="op name, or * for all ops")
    latency_ms = forms.IntegerField(min_value=0, required=False, label="latency ms")
    http500 = forms.FloatField(min_value=0, max_value=1, required=False, label="HTTP 500")
    garbage = forms.FloatField(min_value=0, max_value=1, required=False)
    html_error = forms.FloatField(min_value=0, max_value=1, required=False, label="HTML error")
    hang = forms.FloatField(min_value=0, max_value=1, required=False)
    lost_reply = forms.FloatField(min_value=0, max_value=1, required=False)
    applied_500 = forms.FloatField(
        min_value=0, max_value=1, required=False, label="HTTP 500 after applying"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control form-control-sm"

    def clean_op(self):
        return self.cleaned_data["op"].strip().lower()
