import pytest
from django_tasks_db.models import DBTaskResult

from petitions import services
from petitions.models import Petition

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
    """(signature_id, kind) of every queued signature e-mail, oldest first."""
    rows = DBTaskResult.objects.filter(
        task_path="petitions.tasks.send_signature_email"
    ).order_by("enqueued_at")
    found = [
        (row.args_kwargs["kwargs"]["signature_id"], row.args_kwargs["kwargs"]["kind"])
        for row in rows
    ]
    return [item for item in found if kind is None or item[1] == kind]
