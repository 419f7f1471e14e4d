"""Property-based: whatever a client posts, the sign view never fails or half-writes."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from petitions.models import Signature

from .conftest import queued_emails

pytestmark = pytest.mark.django_db

text = st.text(max_size=300) | st.sampled_from(["", " ", "=1+1", "GB", "PE", "on"])
form_data = st.fixed_dictionaries(
    {},
    optional={
        "full_name": text,
        "email": text | st.emails().map(str),
        "country": text | st.sampled_from(["GB", "PE", "XX", "gb"]),
        "postcode": text | st.sampled_from(["SW1A 1AA", "15001", "123"]),
        "consent": st.sampled_from(["on", "", "yes"]),
        "wants_updates": st.sampled_from(["on", ""]),
        "show_publicly": st.sampled_from(["on", ""]),
    },
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=form_data)
def test_any_submission_is_accepted_whole_or_refused_whole(petition, settings_, data):
    before = Signature.objects.count()
    emails_before = len(queued_emails())
    # Hypothesis rejects NUL bytes in form values the way browsers never send them.
    clean = {key: value.replace("\x00", "") for key, value in data.items()}
    response = Client().post(f"/petitions/{petition.slug}/sign/", clean)
    assert response.status_code in (400, 303)
    created = Signature.objects.count() - before
    if response.status_code == 200:
        assert created == 0
        assert "invalid-feedback" in response.content.decode()
    else:
        assert created in (0, 1)  # 0 when the address had already signed
        if created:
            signature = Signature.objects.latest("pk")
            assert signature.full_name and signature.email and signature.country
            assert len(queued_emails()) == emails_before + 1


@pytest.fixture
def settings_(settings):
    settings.SIGN_RATE_BURST = 100000
    settings.SIGN_RATE_SUSTAINED = 100000
    return settings
