"""The duplicate race, with real concurrent PostgreSQL connections."""

import threading

import pytest
from django.db import connection
from django.test import Client

from organising.paper import signature_counts_reconcile
from petitions import services
from petitions.models import Signature

from .conftest import queued_emails
from .factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _run_together(count, work):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def runner(index):
        try:
            barrier.wait(timeout=30)
            results.append(work(index))
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_fifty_simultaneous_submissions_of_one_email_leave_one_row(settings):
    settings.SIGN_RATE_BURST = 1000
    settings.SIGN_RATE_SUSTAINED = 1000
    petition = PetitionFactory()
    data = {
        "full_name": "Ana Quispe",
        "email": "ana@example.org",
        "country": "PE",
        "consent": "on",
    }

    def submit(index):
        variant = {**data, "email": "ANA@example.org" if index % 2 else data["email"]}
        return Client().post(f"/petitions/{petition.slug}/sign/", variant).status_code

    statuses, errors = _run_together(50, submit)
    assert errors == []
    assert statuses == [303] * 50
    assert Signature.objects.filter(petition=petition).count() == 1
    signature = Signature.objects.get(petition=petition)
    # The row is its own outbox: the repeats asked for their e-mails (up to
    # the cap) on the one row, whose due e-mail is the latest link.
    assert queued_emails() == [(signature.pk, "confirm")]
    assert signature.repeat_emails_sent == settings.SIGNATURE_MAX_REPEAT_EMAILS


def test_simultaneous_confirmations_are_all_counted():
    petition = PetitionFactory()
    signatures = SignatureFactory.create_batch(30, petition=petition)

    def confirm(index):
        return services.signature_confirm(signature_id=signatures[index].pk).status

    statuses, errors = _run_together(30, confirm)
    assert errors == []
    assert len(statuses) == 30
    assert services.petition_signature_count(petition) == 30
    assert signature_counts_reconcile(petition=petition) == (30, 30)
