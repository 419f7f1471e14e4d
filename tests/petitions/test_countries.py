"""The public "where supporters are" table: counts by country, no names."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from petitions import services
from petitions.models import Petition

from .factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards():
    # A request to a Spanish page leaves Spanish active in this thread, and
    # later tests that name countries outside a request would read Spanish.
    yield
    translation.activate(settings.LANGUAGE_CODE)


def confirmed(petition, number, country):
    for signature in SignatureFactory.create_batch(
        number, petition=petition, country=country
    ):
        services.signature_confirm(signature_id=signature.pk)


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_counts_by_country_without_names(client, prefix):
    petition = PetitionFactory()
    confirmed(petition, 4, "PE")
    confirmed(petition, 3, "GB")
    confirmed(petition, 1, "IS")  # one person: folded into "other countries"
    url = prefix + reverse("petitions:countries", kwargs={"slug": petition.slug})
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    peru = "Perú" if prefix else "Peru"
    assert f'<td>{peru}</td><td class="text-end">4</td>' in html
    assert "Iceland" not in html and "Islandia" not in html
    assert '<td class="text-end">1</td>' in html
    assert "<strong>8</strong>" in html
    assert "Signer Number" not in html and "@example.org" not in html


def test_a_draft_petition_has_no_table(client):
    petition = PetitionFactory(state=Petition.State.DRAFT)
    url = reverse("petitions:countries", kwargs={"slug": petition.slug})
    assert client.get(url).status_code == 404
