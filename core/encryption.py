"""Supporters' personal data encrypted at rest, and the blind index that finds it.

Names, e-mail addresses and postcodes are stored as AES-GCM ciphertext (the
`cryptography` package) under a key that lives outside the database, in the
SIGNER_DATA_KEY setting: a stolen dump, backup or replica holds no names.

SIGNER_DATA_KEY is a list of keys, the current one first; every other key is
a fallback that still decrypts rows written before a rotation. Each stored
value names the key that encrypted it (a short id derived from the key), so
`rotate_signer_data_key` can find and re-encrypt the rows under old keys.

Ciphertext cannot be searched, so uniqueness and look-ups by address go
through a blind index: an HMAC of the normalised address under a key derived
from the current data key. Equal addresses give equal indexes; the index
alone does not give the address back.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.email_addresses import PLUS_TAGS_IGNORED, normalise_email

# Marks a stored value as ciphertext: "enc1$<key id>$<nonce, ciphertext, tag>".
PREFIX = "enc1$"
_NONCE_BYTES = 12
KEY_BYTES = 32
# Hex digits kept of each HMAC: plenty against collisions, small in an index.
_INDEX_HEX = 32


class DecryptionError(Exception):
    """A stored value no configured key can decrypt (wrong or missing key)."""


@dataclass(frozen=True)
class DataKey:
    key_id: str
    aead: AESGCM
    index_key: bytes


def _derive(secret: bytes, purpose: bytes) -> bytes:
    # One key per purpose from each configured secret, so the encryption key
    # and the blind-index key are never the same bytes.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret
    )


def _decode_key(text: str) -> bytes:
    try:
        secret = base64.urlsafe_b64decode(text.strip().encode() + b"==")
    except ValueError:
        secret = b""
    if len(secret) != KEY_BYTES:
        raise ImproperlyConfigured(
            "SIGNER_DATA_KEY must be a comma-separated list of keys, each 32 "
            "random bytes in URL-safe base64 (see docs/configuration.md)."
        )
    return secret


@functools.cache
def _keyring(configured: tuple[str, ...]) -> tuple[DataKey, ...]:
    if not configured:
        raise ImproperlyConfigured("SIGNER_DATA_KEY holds no key.")
    keys = []
    for text in configured:
        secret = _decode_key(text)
        keys.append(
            DataKey(
                key_id=_derive(secret, b"signer-data key id").hex()[:8],
                aead=AESGCM(_derive(secret, b"signer-data encryption")),
                index_key=_derive(secret, b"signer-data blind index"),
            )
        )
    return tuple(keys)


def keyring() -> tuple[DataKey, ...]:
    """The configured keys, current first (cached per setting value, so a
    test's override_settings takes effect)."""
    return _keyring(tuple(settings.SIGNER_DATA_KEY))


def generate_key() -> str:
    """A new random key in the format SIGNER_DATA_KEY takes."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode().rstrip("=")


def encrypt(plaintext: str) -> str:
    """The value as stored: ciphertext under the current key. The empty
    string stays empty, so a deleted name still reads as deleted."""
    if not plaintext:
        return ""
    current = keyring()[0]
    nonce = os.urandom(_NONCE_BYTES)
    sealed = current.aead.encrypt(nonce, plaintext.encode(), None)
    # Standard base64 (binascii's, the quickest to decode on export).
    token = binascii.b2a_base64(nonce + sealed, newline=False).decode()
    return f"{PREFIX}{current.key_id}${token}"


def key_id_of(stored: str) -> str | None:
    """The id of the key a stored value was encrypted with, None if it is not
    ciphertext (empty, or written before encryption)."""
    if not stored.startswith(PREFIX):
        return None
    return stored[len(PREFIX) :].partition("$")[0]


def decrypt(stored: str) -> str:
    """The plaintext of a stored value. A value without the prefix is taken
    as written before encryption (the rotation command encrypts such rows)."""
    if not stored or not stored.startswith(PREFIX):
        return stored
    key_id, _sep, token = stored[len(PREFIX) :].partition("$")
    for key in keyring():
        if key.key_id == key_id:
            return _open(key.aead, key_id, token)
    raise DecryptionError(
        f"A stored value is under key {key_id}, which SIGNER_DATA_KEY does not hold."
    )


def _open(aead: AESGCM, key_id: str, token: str) -> str:
    try:
        raw = binascii.a2b_base64(token)
        return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None).decode()
    except (InvalidTag, ValueError) as error:
        raise DecryptionError(
            f"A stored value under key {key_id} does not decrypt."
        ) from error


def decryptor():
    """decrypt() with the keys looked up once, for a loop over many values
    (the delivery-list export)."""
    by_id = {key.key_id: key.aead for key in keyring()}
    start = len(PREFIX)

    def decrypt_one(stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        key_id, _sep, token = stored[start:].partition("$")
        aead = by_id.get(key_id)
        if aead is None:
            return decrypt(stored)  # raises, naming the missing key
        return _open(aead, key_id, token)

    return decrypt_one


def _hmac(index_key: bytes, text: str) -> str:
    return hmac.new(index_key, text.encode(), hashlib.sha256).hexdigest()[:_INDEX_HEX]


def email_index(email: str, *, key: DataKey | None = None) -> str:
    """The blind index of an address: the keyed hash of its normalised form
    (so case and folded plus-tags give the same index)."""
    return _hmac((key or keyring()[0]).index_key, normalise_email(email))


def email_indexes(email: str) -> list[str]:
    """The address's index under every configured key: look-ups match all of
    them, so an address is still found while a rotation is re-indexing."""
    normalised = normalise_email(email)
    return [_hmac(key.index_key, normalised) for key in keyring()]


def email_domain_label(email: str, *, key: DataKey | None = None) -> str:
    """What is stored of an address's domain, for the fraud watch's grouping.

    The big webmail providers are kept by name: millions share them, so the
    name tells nothing about a person, and organisers read the alerts. Any
    other domain (an employer, a university, a small organisation, which can
    name a person's circle) is stored as a keyed hash, "h:" and hex digits:
    the same domain still groups together, and an organiser who types the
    domain finds its signatures, but a dump does not show it.
    """
    domain = normalise_email(email).rpartition("@")[2]
    if not domain:
        return ""
    if domain in PLUS_TAGS_IGNORED:
        return domain
    return "h:" + _hmac((key or keyring()[0]).index_key, "domain:" + domain)[:16]


def email_domain_labels(domain: str) -> list[str]:
    """The stored labels of a domain under every configured key."""
    address = "x@" + domain.strip().lower().lstrip("@")
    return sorted({email_domain_label(address, key=key) for key in keyring()})


def _stale(columns: list[str], current: str) -> str:
    # A non-empty value that is not ciphertext under the current key.
    return " OR ".join(
        f"({column} <> '' AND {column} NOT LIKE '{PREFIX}{current}$%%')"
        for column in columns
    )


def rows_under_old_keys(
    cursor, *, table: str, columns: list[str], plaintext: bool = False
) -> int:
    """How many rows of `table` still have a value not under the current key
    (or, with `plaintext`, any value stored encrypted)."""
    where = (
        " OR ".join(f"{column} LIKE '{PREFIX}%%'" for column in columns)
        if plaintext
        else _stale(columns, keyring()[0].key_id)
    )
    cursor.execute(f"SELECT count(*) FROM {table} WHERE {where}")
    return cursor.fetchone()[0]


def rows_reencrypt(
    cursor,
    *,
    table: str,
    columns: list[str],
    email_column: str,
    domain_column: str = "",
    batch_size: int = 500,
    to_plaintext: bool = False,
) -> int:
    """Re-encrypt one batch of `table`'s rows not under the current key (or
    still in plain text), with their blind index and domain label recomputed
    from the address. Returns how many rows it changed; 0 means done.

    The rows are locked and taken with SKIP LOCKED, so the site keeps writing
    while a rotation runs. `to_plaintext` turns the table back into plain
    text (what the migration's reverse does), the index column into the
    normalised address.
    """
    if to_plaintext:
        where = " OR ".join(f"{column} LIKE '{PREFIX}%%'" for column in columns)
    else:
        where = _stale(columns, keyring()[0].key_id)
    cursor.execute(
        f"SELECT id, {', '.join(columns)} FROM {table} WHERE {where} "
        f"ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
        [batch_size],
    )
    rows = cursor.fetchall()
    updates = []
    for row_id, *values in rows:
        plain = [decrypt(value or "") for value in values]
        email = plain[columns.index(email_column)]
        if to_plaintext:
            stored = plain
            index = normalise_email(email) if email else None
        else:
            stored = [encrypt(value) for value in plain]
            index = email_index(email) if email else None
        extra = [index]
        if domain_column:
            extra.append("" if to_plaintext or not email else email_domain_label(email))
        updates.append([*stored, *extra, row_id])
    if not updates:
        return 0
    assignments = [f"{column} = %s" for column in columns]
    # An anonymised row keeps its index (NULL for a signature).
    assignments.append("email_normalised = coalesce(%s, email_normalised)")
    if domain_column:
        assignments.append(f"{domain_column} = %s")
    cursor.executemany(
        f"UPDATE {table} SET {', '.join(assignments)} WHERE id = %s", updates
    )
    return len(updates)


def table_migrate(*, to_plaintext: bool = False, **table):
    """A RunPython function encrypting every row of `table` (rows_reencrypt's
    arguments), or with `to_plaintext` decrypting them: the data migrations
    that brought in, and can take out, encryption at rest."""

    def run(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            while rows_reencrypt(cursor, **table, to_plaintext=to_plaintext):
                pass

    return run
