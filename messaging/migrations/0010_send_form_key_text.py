"""A send's one-time form key is text, as on every :class:`accounts.models.FormKeyed` row.

The keys already stored are rewritten in the form a form sends them (``str(uuid)``, with
hyphens): SQLite kept a UUID as 32 bare hex digits.
"""

import uuid

from django.db import migrations, models


def hyphenate(apps, schema_editor):
    Send = apps.get_model("messaging", "Send")
    for pk, key in Send.objects.exclude(form_key=None).values_list("pk", "form_key"):
        canonical = str(uuid.UUID(key))
        if canonical != key:
            Send.objects.filter(pk=pk).update(form_key=canonical)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_credittransfer_form_key"),
        ("messaging", "0009_export_heartbeat"),
    ]

    operations = [
        migrations.AlterField(
            model_name="send",
            name="form_key",
            field=models.CharField(
                blank=True, editable=False, max_length=64, null=True, unique=True
            ),
        ),
        migrations.RunPython(hyphenate, migrations.RunPython.noop),
    ]
