import factory
from django.conf import settings

from petitions.models import Petition, Signature


class PetitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Petition

    slug = factory.Sequence(lambda n: f"petition-{n}")
    title = factory.Sequence(lambda n: f"Petition number {n}")
    summary = "A short summary of the ask."
    body = "The **full** text of the petition."
    addressed_to = "The authorities of Peru"
    goal = 100
    state = Petition.State.OPEN


class SignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signature

    petition = factory.SubFactory(PetitionFactory)
    full_name = factory.Sequence(lambda n: f"Signer Number{n}")
    email = factory.Sequence(lambda n: f"signer{n}@example.org")
    email_normalised = factory.LazyAttribute(lambda s: s.email.lower())
    country = "PE"
    consent_version = settings.SIGNATURE_CONSENT_VERSION
    consent_language = "en"
