"""Every index on the signatures table is one more write on the sign POST,
so each must earn its place; none may repeat another's leading column."""

import pytest
from django.db import connection

from petitions.models import Signature

pytestmark = pytest.mark.django_db


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [Signature._meta.db_table],
        )
        return dict(cursor.fetchall())


def test_no_like_only_index():
    assert not [d for d in _indexes().values() if "pattern_ops" in d]


def test_no_index_on_petition_alone():
    # The unique (petition_id, email_normalised) serves lookups by petition.
    column = Signature._meta.get_field("petition").column
    alone = [d for d in _indexes().values() if d.endswith(f"btree ({column})")]
    assert alone == []


def test_lookups_by_ip_hash_still_have_an_index():
    assert any(d.endswith("btree (ip_hash)") for d in _indexes().values())
