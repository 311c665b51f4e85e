"""A credit transfer has one name: the audit action ``creditmove`` (and its steps,
``creditmove.done`` …) becomes ``credittransfer``, like the model, the service and the pages."""

from django.db import migrations
from django.db.models import Value
from django.db.models.functions import Concat, Substr


def _rename(old: str, new: str):
    def run(apps, schema_editor):
        AuditEntry = apps.get_model("accounts", "AuditEntry")
        AuditEntry.objects.filter(action=old).update(action=new)
        AuditEntry.objects.filter(action__startswith=f"{old}.").update(
            action=Concat(Value(new), Substr("action", len(old) + 1))
        )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_credittransfer_form_key"),
    ]

    operations = [
        migrations.RunPython(
            _rename("creditmove", "credittransfer"), _rename("credittransfer", "creditmove")
        ),
    ]
