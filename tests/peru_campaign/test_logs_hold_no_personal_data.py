"""The signing and subscribing journeys leave no supporter's name or address in
PostgreSQL's server log (issue 22, point 7).

The project-local cluster (scripts/localdb.sh) logs errors by constraint
name only: "terse" drops the DETAIL line that quotes a duplicate key (an
e-mail address), "panic" keeps failing statements out, and no statement,
duration or parameter is logged. A deliberate duplicate proves an error was
logged, and without the data.
"""

import os
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from core.encryption import email_index
from newsletters.models import Subscriber
from petitions import tokens
from petitions.models import Signature
from tests.petitions.conftest import send_due_emails
from tests.petitions.factories import PetitionFactory

pytestmark = pytest.mark.django_db

NAME = "Yupanqui Tlacuachero"
EMAILS = [
    "tlacuachero.firma@corp.example",
    "tlacuachero.firma+otra@corp.example",
    "tlacuachero.boletin@corp.example",
]
POSTCODE = "SW1A 2TL"
SIGNER = {"full_name": NAME, "country": "GB", "postcode": POSTCODE, "consent": "on"}

LOG_SETTINGS = {
    "log_error_verbosity": "terse",
    "log_min_error_statement": "panic",
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_parameter_max_length": "0",
    "log_parameter_max_length_on_error": "0",
}


def _server_log() -> Path:
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data_directory = Path(cursor.fetchone()[0])
    log = data_directory.parent / "server.log"
    if not os.access(log, os.R_OK):
        pytest.skip("not the project-local cluster (scripts/localdb.sh)")
    return log


def test_the_local_cluster_logs_no_statement_detail_or_parameter():
    _server_log()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
            [list(LOG_SETTINGS)],
        )
        assert dict(cursor.fetchall()) == LOG_SETTINGS


def _sign_journeys(client):
    petition = PetitionFactory(slug="justice")
    sign = reverse("petitions:sign", kwargs={"slug": petition.slug})
    for email in [EMAILS[0], EMAILS[0], EMAILS[1]]:
        assert client.post(sign, {**SIGNER, "email": email}).status_code == 303
    # A form with a mistake, shown again.
    bad = {**SIGNER, "email": EMAILS[0], "postcode": "not a postcode"}
    assert client.post(sign, bad).status_code == 400
    send_due_emails()
    signature = Signature.objects.get(email_normalised=email_index(EMAILS[0]))
    token = tokens.make_token(signature.pk, "confirm")
    confirm = f"{reverse('petitions:confirm')}?t={token}"
    assert client.post(confirm, {"t": token}).status_code in (200, 302, 303)
    widget = reverse("widget:sign", kwargs={"slug": petition.slug})
    client.post(widget, {**SIGNER, "email": EMAILS[1]})
    withdraw_token = tokens.make_token(signature.pk, "withdraw")
    withdraw = f"{reverse('petitions:withdraw')}?t={withdraw_token}"
    client.post(withdraw, {"t": withdraw_token})


def _subscribe_journeys(client):
    subscribe = reverse("newsletters:subscribe")
    for _twice in range(2):
        assert client.post(subscribe, {"email": EMAILS[2]}).status_code == 303
    # A duplicate key, as two simultaneous requests can cause: the error is
    # logged, its key (the address) is not.
    existing = Subscriber.objects.get(email_normalised=email_index(EMAILS[2]))
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscriber.objects.create(
            email=existing.email,
            email_normalised=existing.email_normalised,
            language="en",
            consent_version="test",
            consent_language="en",
        )


def test_the_journeys_leave_no_name_or_address_in_the_server_log(client):
    log = _server_log()
    start = log.stat().st_size
    _sign_journeys(client)
    _subscribe_journeys(client)
    written = log.read_bytes()[start:].decode(errors="replace")
    assert "duplicate key value violates unique constraint" in written
    for secret in [NAME, *NAME.split(), POSTCODE, *EMAILS, "tlacuachero"]:
        assert secret.lower() not in written.lower(), secret
