"""Signing never makes PostgreSQL raise an error.

PostgreSQL logs every failed statement with its detail; for a unique
violation that detail is the key, i.e. the signer's e-mail address. Every
error the server raises is reported back on the statement that caused it, so
watching every statement the service runs proves none reached the log.
"""

import threading

import pytest
from django.db import DatabaseError, connection

from petitions import services
from petitions.models import Signature

from .factories import PetitionFactory


class StatementErrors:
    """Records every statement PostgreSQL refused on this connection."""

    def __init__(self):
        self.failed = []

    def __call__(self, execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except DatabaseError as error:
            self.failed.append((sql, type(error.__cause__).__name__))
            raise


def sign(petition, email="ana@example.org", **overrides):
    return services.signature_create(
        petition=petition,
        full_name="Ana Quispe",
        email=email,
        country="PE",
        **overrides,
    )


@pytest.mark.django_db
def test_signing_again_raises_no_error_in_postgresql():
    petition = PetitionFactory()
    errors = StatementErrors()
    with connection.execute_wrapper(errors):
        first = sign(petition)
        # The same address, as typed and as folded by normalise_email.
        repeats = [sign(petition), sign(petition, email="ANA@example.org")]
    assert first == services.SignOutcome.CREATED
    assert repeats == [services.SignOutcome.REPEAT_PENDING] * 2
    assert Signature.objects.count() == 1
    assert errors.failed == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_repeats_raise_no_error_in_postgresql(settings):
    petition = PetitionFactory()
    failed, outcomes = [], []
    barrier = threading.Barrier(8)

    def runner():
        errors = StatementErrors()
        try:
            barrier.wait(timeout=30)
            with connection.execute_wrapper(errors):
                outcomes.append(sign(petition))
        finally:
            failed.extend(errors.failed)
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count(services.SignOutcome.CREATED) == 1
    assert len(outcomes) == 8
    assert failed == []
    assert Signature.objects.filter(petition=petition).count() == 1
