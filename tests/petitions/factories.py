"""Petitions, signatures and staff users for the petitions tests.

`SignatureFactory` makes a pending signature, as the sign form would;
`ConfirmedSignatureFactory` writes a confirmed one straight to the table (the
sign-and-confirm flow has its own tests): the organisers' tests need exact
dates, hostile names that the form would refuse, and tens of thousands of rows.
"""

import datetime

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.utils import timezone

from core.encryption import email_domain_label, email_index
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
    email_normalised = factory.LazyAttribute(lambda s: email_index(s.email))
    email_domain_label = factory.LazyAttribute(lambda s: email_domain_label(s.email))
    country = "PE"
    consent_version = settings.SIGNATURE_CONSENT_VERSION
    consent_language = "en"


class ConfirmedSignatureFactory(SignatureFactory):
    """A confirmed signature written straight to the table, with a distinct IP
    hash; pass status= and the matching date for others. Call `recount()`
    afterwards when a test reads the running counts."""

    status = Signature.Status.CONFIRMED
    full_name = factory.Sequence(lambda n: f"María Quispe {n}")
    ip_hash = factory.Sequence(lambda n: f"{n:032x}")
    created_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyAttribute(
        lambda o: o.created_at if o.status == Signature.Status.CONFIRMED else None
    )


def many_confirmed(
    petition: Petition, number: int, *, start=None, every=datetime.timedelta(minutes=1)
) -> None:
    """`number` confirmed signatures in one INSERT, a minute apart from `start`."""
    start = start or timezone.now() - every * number
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO petitions_signature (
                petition_id, status, full_name, email, email_normalised, country,
                postcode, ip_hash, consent_version, consent_language,
                wants_updates, show_publicly, created_at, confirmed_at,
                repeat_emails_sent
            )
            SELECT %(petition)s, 'confirmed', 'Signer número ' || i,
                   'bulk' || i || '@example.org', 'bulk' || i || '@example.org',
                   'PE', 'L1 ' || i, '', 'test', 'es', false, false,
                   %(start)s::timestamptz + i * %(every)s,
                   %(start)s::timestamptz + i * %(every)s, 0
            FROM generate_series(1, %(number)s) AS i
            """,
            {"petition": petition.pk, "number": number, "start": start, "every": every},
        )


def staff_user(username: str, *, groups=(), permissions=(), is_staff=True):
    """A user with the given groups and "app_label.codename" permissions."""
    user = get_user_model().objects.create_user(
        username=username, password="not-used-in-tests", is_staff=is_staff
    )
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    for dotted in permissions:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user
