from django.db import migrations, models

import core.fields
from core import encryption

# Encrypts names, addresses and postcodes, and replaces each normalised
# address by its blind index and its domain by a label; the reverse decrypts
# them back to plain text.
_TABLE = {
    "table": "petitions_signature",
    "columns": ["full_name", "email", "postcode"],
    "email_column": "email",
    "domain_column": "email_domain_label",
}


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0017_signing_pause_and_site_banner"),
        # Subscribers were copied from signers by matching plain addresses.
        ("newsletters", "0005_subscribers_from_signers"),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="email_domain_label",
            field=models.CharField(
                blank=True,
                db_default="",
                help_text="The e-mail's domain if it is a big webmail provider, otherwise a keyed hash of it.",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="signature",
            name="email",
            field=core.fields.EncryptedTextField(blank=True, max_length=254),
        ),
        migrations.AlterField(
            model_name="signature",
            name="email_normalised",
            field=models.CharField(
                blank=True,
                help_text="A keyed hash of the address (lower case, with dots and +tags folded for big webmail providers); one signature per address per petition.",
                max_length=254,
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="signature",
            name="full_name",
            field=core.fields.EncryptedTextField(blank=True, max_length=100),
        ),
        migrations.AlterField(
            model_name="signature",
            name="postcode",
            field=core.fields.EncryptedTextField(blank=True, max_length=16),
        ),
        migrations.RunPython(
            encryption.table_migrate(**_TABLE),
            encryption.table_migrate(**_TABLE, to_plaintext=True),
        ),
    ]
