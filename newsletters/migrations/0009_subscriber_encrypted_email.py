from django.db import migrations, models

import core.fields
from core import encryption

# Encrypts the stored addresses and replaces each normalised address by its
# blind index; the reverse decrypts them back to plain text.
_TABLE = {
    "table": "newsletters_subscriber",
    "columns": ["email"],
    "email_column": "email",
}


class Migration(migrations.Migration):
    dependencies = [
        ("newsletters", "0008_delivery_retransmitted"),
    ]

    operations = [
        migrations.AlterField(
            model_name="subscriber",
            name="email",
            field=core.fields.EncryptedTextField(
                max_length=254, verbose_name="e-mail address"
            ),
        ),
        migrations.AlterField(
            model_name="subscriber",
            name="email_normalised",
            field=models.CharField(
                help_text="A keyed hash of the address (lower case, provider aliases folded): one subscriber per address.",
                max_length=254,
                unique=True,
            ),
        ),
        migrations.RunPython(
            encryption.table_migrate(**_TABLE),
            encryption.table_migrate(**_TABLE, to_plaintext=True),
        ),
    ]
