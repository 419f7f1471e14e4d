import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from core.encryption import email_index
from newsletters.models import Entry, EntrySource, Issue, Subscriber


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}@example.org")
    email = factory.LazyAttribute(lambda user: user.username)
    password = factory.django.Password("a-long-test-password")


class StaffUserFactory(UserFactory):
    is_staff = True


def make_editor(**kwargs):
    """A staff member in the "Editors" group that the migration creates."""
    user = StaffUserFactory(**kwargs)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


class EntryFactory(factory.django.DjangoModelFactory):
    """A public entry unless told otherwise."""

    class Meta:
        model = Entry

    title = factory.Sequence(lambda n: f"Significant event number {n}")
    slug = factory.Sequence(lambda n: f"significant-event-{n}")
    month = datetime.date(2024, 6, 1)
    summary = "A short summary of what happened."
    body = "What happened, in **Markdown**."
    pub_date = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    is_published = True

    class Params:
        draft = factory.Trait(is_published=False)
        scheduled = factory.Trait(
            pub_date=factory.LazyFunction(
                lambda: timezone.now() + datetime.timedelta(days=2)
            )
        )


class EntrySourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EntrySource

    entry = factory.SubFactory(EntryFactory)
    title = "Human Rights Watch"
    url = "https://www.hrw.org/americas/peru"
    order = factory.Sequence(int)


class SubscriberFactory(factory.django.DjangoModelFactory):
    """A confirmed subscriber from the form unless told otherwise."""

    class Meta:
        model = Subscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    email_normalised = factory.LazyAttribute(lambda s: email_index(s.email))
    language = "en"
    source = Subscriber.Source.FORM
    status = Subscriber.Status.CONFIRMED
    consent_version = "test"
    consent_language = factory.LazyAttribute(lambda s: s.language)
    confirmed_at = factory.LazyFunction(timezone.now)
    form_confirmed_at = factory.LazyAttribute(
        lambda s: s.confirmed_at if s.source == Subscriber.Source.FORM else None
    )


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issue
        skip_postgeneration_save = True

    subject = ""

    @factory.post_generation
    def entries(self, create, extracted, **kwargs):
        if not create:
            return
        self.entries.set(extracted if extracted is not None else [EntryFactory()])
