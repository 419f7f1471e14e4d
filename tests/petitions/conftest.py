import pytest
from django.core import mail

from petitions import outbox, services
from petitions.models import Petition, Signature

from .factories import PetitionFactory


@pytest.fixture(autouse=True)
def _london_clock(settings):
    # These tests were written with days and times in Europe/London; the site
    # default is now America/Lima (settings.TIME_ZONE), and the rules under
    # test hold in any zone.
    settings.TIME_ZONE = "Europe/London"


@pytest.fixture
def petition(db) -> Petition:
    return PetitionFactory(slug="justice", goal=3)


@pytest.fixture
def sign(petition):
    """Sign `petition` through the service with sensible defaults."""

    def _sign(email="ana@example.org", **overrides):
        values = {
            "petition": petition,
            "full_name": "Ana Quispe",
            "email": email,
            "country": "PE",
            "ip_hash": "iphash1",
        }
        values.update(overrides)
        return services.signature_create(**values)

    return _sign


def queued_emails(kind=None):
    """(signature_id, kind) of every signature e-mail the outbox has taken
    on, oldest first: those sent (read back from their Message-IDs) and then
    those still due on their rows."""
    found = []
    for message in mail.outbox:
        message_id = message.extra_headers.get("Message-ID", "")
        if message_id.startswith("<signature-"):
            signature_id, email_kind, _number, _rest = message_id[11:].split(".", 3)
            found.append((int(signature_id), email_kind))
    found += (
        Signature.objects.filter(email_due_at__isnull=False)
        .order_by("email_due_at", "pk")
        .values_list("pk", "email_kind")
    )
    return [item for item in found if kind is None or item[1] == kind]


def send_due_emails() -> int:
    """Run the signers' outbox now, in this process, until nothing is due;
    what the send_signature_emails process does. Returns how many were sent."""
    sent = 0
    while (result := outbox.signature_emails_send()).claimed:
        sent += result.sent
    return sent
