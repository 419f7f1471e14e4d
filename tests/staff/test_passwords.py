"""Staff passwords: twelve characters at least, with Django's other checks."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.petitions.factories import staff_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("tr0ub4dor&3", "at least 12 characters"),
        ("123456789012345", "entirely numeric"),
        ("cookiemonster", "too common"),
    ],
)
def test_weak_passwords_are_refused(password, message):
    with pytest.raises(ValidationError, match=message):
        validate_password(password)


def test_a_twelve_character_password_is_accepted():
    validate_password("tr0ub4dor&3!")


def test_the_admin_refuses_a_short_new_password(client):
    user = staff_user("editor@example.org")
    client.force_login(user)
    response = client.post(
        "/admin/password_change/",
        {
            "old_password": "not-used-in-tests",
            "new_password1": "tr0ub4dor&3",
            "new_password2": "tr0ub4dor&3",
        },
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("not-used-in-tests")
