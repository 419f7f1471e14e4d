import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from petitions import services
from petitions.models import Petition

from .factories import PetitionFactory


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
    """(signature_id, kind) of every queued signature e-mail, oldest first."""
    rows = ProcrastinateJob.objects.filter(
        task_name="petitions.tasks.send_signature_email"
    ).order_by("id")
    found = [(row.args["signature_id"], row.args["kind"]) for row in rows]
    return [item for item in found if kind is None or item[1] == kind]
