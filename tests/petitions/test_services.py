import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.encryption import email_index
from organising.paper import signature_counts_reconcile
from petitions import services
from petitions.models import Petition, Signature, SignatureCount
from petitions.services import SignOutcome

from .conftest import queued_emails, send_due_emails
from .factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


def test_signing_creates_a_pending_signature_and_queues_its_email(petition, sign):
    assert sign(email="Ana.Q+peru@GMail.com", postcode="15001") == SignOutcome.CREATED
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert signature.email == "Ana.Q+peru@gmail.com"
    assert signature.email_normalised == email_index("anaq@gmail.com")
    assert signature.consent_version and signature.consent_language == "en"
    assert not signature.wants_updates and not signature.show_publicly
    assert queued_emails() == [(signature.pk, "confirm")]
    assert services.petition_signature_count(petition) == 0


def test_signing_again_creates_nothing_and_resends_the_link_a_few_times(sign, settings):
    sign(email="ana@gmail.com")
    outcomes = []
    for _ in range(5):
        send_due_emails()  # the outbox worker runs between the attempts
        outcomes.append(sign(email="A.N.A+again@gmail.com"))
    assert Signature.objects.count() == 1
    cap = settings.SIGNATURE_MAX_REPEAT_EMAILS
    assert outcomes[:cap] == [SignOutcome.REPEAT_PENDING] * cap
    assert outcomes[cap:] == [SignOutcome.REPEAT_IGNORED] * (5 - cap)
    assert len(queued_emails("confirm")) == 1 + cap


def test_signing_again_after_confirming_says_so_by_email(sign):
    sign()
    signature = Signature.objects.get()
    services.signature_confirm(signature_id=signature.pk)
    assert sign() == SignOutcome.REPEAT_CONFIRMED
    assert queued_emails("already_signed") == [(signature.pk, "already_signed")]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"full_name": "=1+1"}, "full_name"),
        ({"email": "nope"}, "email"),
        ({"country": "XX"}, "country"),
        ({"country": "GB", "postcode": "12345"}, "postcode"),
    ],
)
def test_service_refuses_what_the_form_would_refuse(sign, overrides, field):
    with pytest.raises(ValidationError) as error:
        sign(**overrides)
    assert field in error.value.error_dict
    assert Signature.objects.count() == 0
    assert queued_emails() == []


@pytest.mark.parametrize(
    ("state", "opens", "closes", "message"),
    [
        (Petition.State.CLOSED, None, None, "has closed"),
        (Petition.State.DRAFT, None, None, "not open"),
        (Petition.State.OPEN, 1, None, "not open for signatures yet"),
        (Petition.State.OPEN, None, -1, "has closed"),
    ],
)
def test_closed_draft_and_out_of_hours_petitions_refuse(state, opens, closes, message):
    now = timezone.now()
    petition = PetitionFactory(
        state=state,
        opens_at=opens and now + datetime.timedelta(days=opens),
        closes_at=closes and now + datetime.timedelta(days=closes),
    )
    with pytest.raises(ValidationError, match=message):
        services.signature_create(
            petition=petition, full_name="Ana", email="a@example.org", country="PE"
        )
    assert not Signature.objects.exists()


def test_confirming_counts_once_and_records_the_position(petition, sign):
    sign(email="one@example.org")
    sign(email="two@example.org")
    first, second = Signature.objects.order_by("pk")
    assert services.signature_confirm(signature_id=first.pk).confirmed_position == 1
    confirmed = services.signature_confirm(signature_id=second.pk)
    assert confirmed.status == Signature.Status.CONFIRMED
    assert confirmed.confirmed_position == 2
    # A second use of the link changes nothing.
    services.signature_confirm(signature_id=second.pk)
    assert services.petition_signature_count(petition) == 2


def test_confirming_after_the_petition_closed_is_refused(petition, sign):
    sign()
    Petition.objects.filter(pk=petition.pk).update(state=Petition.State.CLOSED)
    with pytest.raises(ValidationError, match="closed"):
        services.signature_confirm(signature_id=Signature.objects.get().pk)
    assert services.petition_signature_count(petition) == 0


def test_withdrawing_deletes_personal_data_and_drops_the_count(petition, sign):
    sign(wants_updates=True, show_publicly=True, postcode="15001")
    signature = Signature.objects.get()
    services.signature_confirm(signature_id=signature.pk)
    assert services.signature_withdraw(signature_id=signature.pk) is True
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN
    assert (signature.full_name, signature.email, signature.postcode) == ("", "", "")
    assert signature.email_normalised is None and signature.ip_hash == ""
    assert not signature.show_publicly and not signature.wants_updates
    assert services.petition_signature_count(petition) == 0
    assert services.signature_withdraw(signature_id=signature.pk) is False
    # The same person may sign again later.
    assert (
        services.signature_create(
            petition=petition, full_name="Ana", email="ana@example.org", country="PE"
        )
        == SignOutcome.CREATED
    )


def test_withdrawing_a_pending_signature_leaves_the_count_alone(petition, sign):
    sign(email="a@example.org")
    sign(email="b@example.org")
    first, second = Signature.objects.order_by("pk")
    services.signature_confirm(signature_id=first.pk)
    services.signature_withdraw(signature_id=second.pk)
    assert services.petition_signature_count(petition) == 1


def test_confirming_a_withdrawn_signature_is_refused(sign):
    sign()
    signature = Signature.objects.get()
    services.signature_withdraw(signature_id=signature.pk)
    with pytest.raises(ValidationError, match="no longer exists"):
        services.signature_confirm(signature_id=signature.pk)


def test_unsubscribe_stops_updates_once(sign):
    sign(wants_updates=True)
    signature = Signature.objects.get()
    assert services.signature_unsubscribe(signature_id=signature.pk) is True
    assert services.signature_unsubscribe(signature_id=signature.pk) is False
    signature.refresh_from_db()
    assert not signature.wants_updates and signature.unsubscribed_at


def test_invalidating_confirmed_and_pending_signatures_updates_the_count(
    petition, sign
):
    for index in range(4):
        sign(email=f"s{index}@example.org", ip_hash="bad" if index < 3 else "good")
    for signature in Signature.objects.all()[:3]:
        services.signature_confirm(signature_id=signature.pk)
    before = services.petition_signature_count(petition)
    assert before == 3
    number = services.signatures_invalidate_matching(petition=petition, ip_hash="bad")
    assert number == 3
    remaining = Signature.objects.exclude(status=Signature.Status.INVALIDATED)
    assert remaining.count() == 1
    expected = remaining.filter(status=Signature.Status.CONFIRMED).count()
    assert services.petition_signature_count(petition) == expected
    # Invalidating again finds nothing to do.
    assert (
        services.signatures_invalidate_matching(petition=petition, ip_hash="bad") == 0
    )


def test_invalidating_by_email_domain(petition, sign):
    sign(email="a@spam.example")
    sign(email="b@SPAM.example")
    sign(email="c@example.org")
    for signature in Signature.objects.all():
        services.signature_confirm(signature_id=signature.pk)
    assert (
        services.signatures_invalidate_matching(
            petition=petition, email_domain="@spam.example"
        )
        == 2
    )
    assert services.petition_signature_count(petition) == 1
    with pytest.raises(ValidationError):
        services.signatures_invalidate_matching(petition=petition)


def test_counts_by_country_and_reconciliation(petition, sign):
    for index, country in enumerate(["PE", "PE", "GB", "ES"]):
        sign(email=f"s{index}@example.org", country=country)
    for signature in Signature.objects.all():
        services.signature_confirm(signature_id=signature.pk)
    by_country, updated_at = services.petition_counts_by_country(petition)
    assert by_country == {"PE": 2, "ES": 1, "GB": 1}
    assert list(by_country) == ["PE", "ES", "GB"]
    assert updated_at is not None
    # Corrupt the counts, then reconcile them from the signatures.
    SignatureCount.objects.filter(petition=petition).update(count=99)
    before, after = signature_counts_reconcile(petition=petition)
    assert after == 4 and before != 4
    assert services.petition_signature_count(petition) == 4
    assert services.petition_counts_by_country(petition)[0] == by_country


def test_goal_steps_up_when_reached():
    petition = Petition(goal=100)
    assert petition.goal_for(0) == 100
    assert petition.goal_for(99) == 100
    assert petition.goal_for(100) == 200
    assert petition.goal_for(450) == 800


def test_count_rows_stay_bounded_by_countries_and_shards(petition):
    signatures = SignatureFactory.create_batch(40, petition=petition, country="PE")
    for signature in signatures:
        services.signature_confirm(signature_id=signature.pk)
    rows = SignatureCount.objects.filter(petition=petition)
    assert rows.count() <= 4
    assert services.petition_signature_count(petition) == 40


def test_public_first_name_never_shows_the_surname():
    assert Signature(full_name="Ana María Quispe").public_first_name == "Ana"
    assert Signature(full_name="").public_first_name == ""


def test_signing_records_the_campaign_source_folded_to_a_safe_label(sign):
    sign(source="  Newsletter-JULY <script>  ")
    assert Signature.objects.get().source == "newsletter-july-script"


SIGNER = {"full_name": "Ana Quispe", "email": "ana@example.org", "country": "PE"}


def test_signing_by_slug_stores_the_row_in_the_open_petition():
    petition = PetitionFactory()
    outcome = services.signature_create(petition_slug=petition.slug, **SIGNER)
    assert outcome is SignOutcome.CREATED
    assert Signature.objects.get().petition == petition


@pytest.mark.parametrize(
    "petition_kwargs",
    [
        {"state": Petition.State.DRAFT},
        {"state": Petition.State.CLOSED},
        {"opens_at": timezone.now() + datetime.timedelta(hours=1)},
        {"closes_at": timezone.now() - datetime.timedelta(seconds=1)},
    ],
)
def test_signing_by_slug_a_petition_that_is_not_open_stores_nothing(petition_kwargs):
    petition = PetitionFactory(**petition_kwargs)
    with pytest.raises(services.PetitionNotOpen):
        services.signature_create(petition_slug=petition.slug, **SIGNER)
    assert not Signature.objects.exists()


def test_a_petition_closed_since_the_caller_read_it_is_refused():
    petition = PetitionFactory()
    Petition.objects.filter(pk=petition.pk).update(state=Petition.State.CLOSED)
    with pytest.raises(ValidationError) as refused:
        services.signature_create(petition=petition, **SIGNER)
    assert refused.value.code == "closed"
    assert not Signature.objects.exists()


def test_signing_needs_exactly_one_of_petition_and_slug():
    petition = PetitionFactory()
    with pytest.raises(TypeError):
        services.signature_create(**SIGNER)
    with pytest.raises(TypeError):
        services.signature_create(
            petition=petition, petition_slug=petition.slug, **SIGNER
        )
