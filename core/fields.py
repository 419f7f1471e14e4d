"""Model fields whose values are encrypted in the database (core.encryption)."""

from django.db import models

from core import encryption


class EncryptedTextField(models.TextField):
    """Text stored as ciphertext and read back as plain text.

    Code that reads `signature.full_name` sees the name; the column holds
    only ciphertext. Ciphertext differs on every write, so the only look-ups
    that mean anything are on the empty value (a deleted field): find rows
    by a blind index instead (core.encryption.email_index).
    """

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return encryption.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encryption.encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name not in {"exact", "isnull"}:
            # icontains, startswith… on ciphertext would silently find nothing.
            return None
        return super().get_lookup(lookup_name)
