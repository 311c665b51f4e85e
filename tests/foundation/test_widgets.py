"""One rule for Bootstrap classes on widgets (forms and filter bars)."""

from django import forms

from bearsms_portal.widgets import style_widgets


class Sample(forms.Form):
    name = forms.CharField()
    kind = forms.ChoiceField(choices=[("a", "A")])
    agree = forms.BooleanField()
    note = forms.CharField(widget=forms.TextInput(attrs={"class": "font-monospace"}))


def test_each_widget_gets_its_class_once_in_front_of_its_own():
    form = Sample()
    style_widgets(form.fields.values())
    style_widgets(form.fields.values())  # twice: nothing doubled
    classes = {name: field.widget.attrs["class"] for name, field in form.fields.items()}
    assert classes == {
        "name": "form-control",
        "kind": "form-select",
        "agree": "form-check-input",
        "note": "form-control font-monospace",
    }


def test_filter_bars_take_the_small_sizes():
    form = Sample()
    style_widgets(form.fields.values(), small=True)
    assert form.fields["name"].widget.attrs["class"] == "form-control form-control-sm"
    assert form.fields["kind"].widget.attrs["class"] == "form-select form-select-sm"
    assert form.fields["agree"].widget.attrs["class"] == "form-check-input"
