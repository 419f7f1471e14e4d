"""Supporters' personal data at rest: encrypted, found by blind index, rotated,
and absent from a dump of the database."""

import os
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection

from core import encryption
from newsletters.models import Subscriber
from organising.management.commands.rotate_signer_data_key import TABLES
from petitions.models import Signature
from petitions.services import SignOutcome
from tests.newsletters.factories import SubscriberFactory
from tests.petitions.factories import ConfirmedSignatureFactory, PetitionFactory

pytestmark = pytest.mark.django_db

KEY_A = encryption.generate_key()
KEY_B = encryption.generate_key()


def _raw(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def test_personal_data_is_stored_encrypted_and_read_back_plain(sign):
    assert sign(email="Ana.Q@Example.org", postcode="15001") == SignOutcome.CREATED
    signature = Signature.objects.get()
    assert (signature.full_name, signature.email, signature.postcode) == (
        "Ana Quispe",
        "Ana.Q@example.org",
        "15001",
    )
    for column in ("full_name", "email", "postcode"):
        (stored,) = _raw("petitions_signature", column)
        assert stored.startswith(encryption.PREFIX)
        assert "Ana" not in stored and "15001" not in stored
    # The unique column holds the keyed hash, not the address.
    assert signature.email_normalised == encryption.email_index("ana.q@example.org")
    assert "example.org" not in signature.email_normalised


def test_each_write_gives_different_ciphertext():
    assert encryption.encrypt("Ana") != encryption.encrypt("Ana")
    assert encryption.decrypt(encryption.encrypt("Ñandú Quispe")) == "Ñandú Quispe"


def test_a_wrong_key_cannot_read_the_data(settings):
    settings.SIGNER_DATA_KEY = [KEY_A]
    stored = encryption.encrypt("Ana Quispe")
    settings.SIGNER_DATA_KEY = [KEY_B]
    with pytest.raises(encryption.DecryptionError, match="does not hold"):
        encryption.decrypt(stored)
    # The same key id with other bytes (a tampered value) fails too.
    settings.SIGNER_DATA_KEY = [KEY_A]
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises(encryption.DecryptionError, match="does not decrypt"):
        encryption.decrypt(tampered)


def test_a_malformed_key_is_refused_clearly(settings):
    settings.SIGNER_DATA_KEY = ["too-short"]
    with pytest.raises(Exception, match="32 random bytes"):
        encryption.encrypt("Ana")


def test_the_same_person_signing_with_other_case_and_plus_tag_is_one_signature(
    sign,
):
    assert sign(email="Ana.Q+peru@GMail.com") == SignOutcome.CREATED
    assert sign(email="anaq@gmail.com") != SignOutcome.CREATED
    assert sign(email="ANA.Q+other@googlemail.com") != SignOutcome.CREATED
    assert Signature.objects.count() == 1


def test_rotation_re_encrypts_every_row_and_keeps_look_ups_working(
    settings, sign, capsys
):
    settings.SIGNER_DATA_KEY = [KEY_A]
    sign(email="ana@uni.example", postcode="15001")
    SubscriberFactory(email="reader@example.org")
    old_label = Signature.objects.get().email_domain_label
    # The new key first; the old one stays as a fallback while rows move.
    settings.SIGNER_DATA_KEY = [KEY_B, KEY_A]
    assert Signature.objects.get().full_name == "Ana Quispe"
    call_command("rotate_signer_data_key", "--dry-run")
    assert "petitions_signature: 0 re-encrypted, 1 still under old keys" in (
        capsys.readouterr().out
    )
    call_command("rotate_signer_data_key", "--batch-size", "1")
    out = capsys.readouterr().out
    assert "petitions_signature: 1 re-encrypted, 0 still under old keys" in out
    assert "newsletters_subscriber: 1 re-encrypted, 0 still under old keys" in out
    # Readable with the new key alone: the old one can go.
    settings.SIGNER_DATA_KEY = [KEY_B]
    new_id = encryption.keyring()[0].key_id
    for table, column in [
        ("petitions_signature", "full_name"),
        ("petitions_signature", "email"),
        ("petitions_signature", "postcode"),
        ("newsletters_subscriber", "email"),
    ]:
        assert all(
            encryption.key_id_of(value) == new_id for value in _raw(table, column)
        )
    signature = Signature.objects.get()
    assert (signature.email, signature.postcode) == ("ana@uni.example", "15001")
    assert signature.email_domain_label != old_label
    # The blind index moved with the key: a repeat signature is still a repeat.
    assert sign(email="ANA@uni.example") != SignOutcome.CREATED
    assert Signature.objects.count() == 1
    assert Subscriber.objects.filter(
        email_normalised__in=encryption.email_indexes("reader@example.org")
    ).exists()


def test_rotation_encrypts_rows_written_in_plain_text(capsys):
    petition = PetitionFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO petitions_signature (petition_id, full_name, email, "
            "email_normalised, country, postcode, ip_hash, consent_version, "
            "consent_language, wants_updates, show_publicly, created_at) "
            "VALUES (%s, 'Rosa Mamani', 'rosa@example.org', 'rosa@example.org', "
            "'PE', '04001', '', 'v', 'es', false, false, now())",
            [petition.pk],
        )
    call_command("rotate_signer_data_key")
    assert "1 re-encrypted, 0 still under old keys" in capsys.readouterr().out
    assert "Rosa" not in _raw("petitions_signature", "full_name")[0]
    signature = Signature.objects.get()
    assert signature.full_name == "Rosa Mamani"
    assert signature.email_normalised == encryption.email_index("rosa@example.org")


def _pg_dump() -> str:
    """The text of a pg_dump of the test database, by the running server's
    own pg_dump (a client older than the server refuses)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    binary = f"/usr/lib/postgresql/{major}/bin/pg_dump"
    if not os.path.exists(binary):
        binary = shutil.which("pg_dump")
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = [binary, "--no-owner", "--dbname", db["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [flag, str(db[key])]
    completed = subprocess.run(
        command, env=env, capture_output=True, text=True, check=True, timeout=300
    )
    return completed.stdout


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_dump_of_the_database_names_no_signer_or_subscriber(sign):
    people = [
        ("Wilfredo Ccahuana", "wilfredo.ccahuana@pucp.example", "08002"),
        ("Rosalía Huamán", "Rosalia.Huaman+peru@gmail.com", "ZX9 4QW"),
    ]
    for name, email, postcode in people:
        sign(full_name=name, email=email, postcode=postcode)
    ConfirmedSignatureFactory(
        full_name="Eusebia Quispecondori", email="eusebia@ayacucho.example"
    )
    SubscriberFactory(email="subscriber.tupac@lima.example")
    # The rows are committed (a transactional test), so pg_dump sees them.
    assert Signature.objects.count() == 3
    dump = _pg_dump()
    assert "COPY public.petitions_signature" in dump
    secrets = [
        "Wilfredo",
        "Ccahuana",
        "pucp.example",
        "08002",
        "Rosal",
        "Huam",
        "ZX9 4QW",
        "Quispecondori",
        "ayacucho.example",
        "subscriber.tupac",
        "lima.example",
    ]
    for secret in secrets:
        assert secret.lower() not in dump.lower(), secret


def test_the_data_migration_reverses_to_plain_text_and_back(sign):
    sign(email="Ana.Q@Example.org", postcode="15001")
    table = TABLES[0]
    with connection.cursor() as cursor:
        assert encryption.rows_reencrypt(cursor, **table, to_plaintext=True) == 1
    assert _raw("petitions_signature", "full_name") == ["Ana Quispe"]
    assert _raw("petitions_signature", "email_normalised") == ["ana.q@example.org"]
    with connection.cursor() as cursor:
        assert encryption.rows_reencrypt(cursor, **table) == 1
    assert "Ana" not in _raw("petitions_signature", "full_name")[0]
    assert Signature.objects.get().email_normalised == encryption.email_index(
        "ana.q@example.org"
    )
