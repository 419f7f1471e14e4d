import pytest
from django.contrib.auth.models import Permission

from api import services
from petitions import services as petition_services
from tests.petitions.factories import PetitionFactory


@pytest.fixture
def petition(db):
    return PetitionFactory(slug="justice", title="Justice now", goal=3)


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(
        "organiser", "organiser@example.org", "a long password", is_staff=True
    )


@pytest.fixture
def delivery_owner(owner):
    owner.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["export_delivery_list", "export_emails"]
        )
    )
    return owner


@pytest.fixture
def make_token(owner):
    """Create a token with the given scopes; returns (token, raw key)."""

    def _make(token_owner=None, **scopes):
        return services.api_token_create(
            name="amnesty-peru", owner=token_owner or owner, **scopes
        )

    return _make


@pytest.fixture
def sign(petition):
    def _sign(email="ana@example.org", **overrides):
        values = {
            "petition": petition,
            "full_name": "Ana Quispe",
            "email": email,
            "country": "PE",
        }
        values.update(overrides)
        return petition_services.signature_create(**values)

    return _sign
