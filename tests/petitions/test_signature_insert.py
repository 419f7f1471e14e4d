"""The sign POST's INSERT names its columns (petitions.services)."""

import pytest
from django.db import connection
from django.db.models import NOT_PROVIDED

from petitions.models import Signature
from petitions.services import SIGNATURE_INSERT_COLUMNS


def test_every_not_null_column_without_a_database_default_is_inserted():
    # A NOT NULL column the INSERT leaves out must have a db_default: a plain
    # `default` (above all a callable one) never reaches hand-written SQL.
    missing = [
        field.column
        for field in Signature._meta.concrete_fields
        if not field.primary_key
        and not field.null
        and field.db_default is NOT_PROVIDED
        and field.column not in ("petition_id", *SIGNATURE_INSERT_COLUMNS)
    ]
    assert missing == []


def test_every_inserted_column_is_a_column_of_the_model():
    columns = {field.column for field in Signature._meta.concrete_fields}
    assert set(SIGNATURE_INSERT_COLUMNS) <= columns


@pytest.mark.django_db
def test_the_database_agrees_every_other_column_has_a_default_or_takes_null():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT column_name FROM information_schema.columns
            WHERE table_name = 'petitions_signature' AND is_nullable = 'NO'
              AND column_default IS NULL AND is_identity = 'NO'
            """
        )
        required = {row[0] for row in cursor.fetchall()}
    assert required - {"petition_id", *SIGNATURE_INSERT_COLUMNS} == set()
