"""The transfer's one-time form key takes the name it has everywhere else (``form_key``, from
:class:`accounts.models.FormKeyed`); transfers asked outside a form keep their generated key."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_money_columns_hold_large_balances"),
    ]

    operations = [
        migrations.RenameField(
            model_name="credittransfer", old_name="idempotency_key", new_name="form_key"
        ),
        migrations.AlterField(
            model_name="credittransfer",
            name="form_key",
            field=models.CharField(
                blank=True, editable=False, max_length=64, null=True, unique=True
            ),
        ),
    ]
