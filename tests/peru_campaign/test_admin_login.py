import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_create_staff_user_prints_a_working_password_once(client, capsys):
    call_command("create_staff_user", "editor@example.org")
    out = capsys.readouterr().out
    password = out.split("Password (shown only this once): ")[1].split()[0]
    user = get_user_model().objects.get(username="editor@example.org")
    assert user.is_staff and user.check_password(password)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "editor@example.org", "password": password},
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_create_staff_user_refuses_a_duplicate_and_a_bad_address():
    call_command(
        "create_staff_user", "editor@example.org", stdout=open("/dev/null", "w")
    )
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_staff_user", "editor@example.org")
    with pytest.raises(CommandError, match="not a valid e-mail"):
        call_command("create_staff_user", "not-an-address")


def test_admin_login_is_locked_after_repeated_wrong_passwords(client, settings):
    get_user_model().objects.create_user(
        username="staff@example.org", password="right-horse-battery", is_staff=True
    )
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/admin/login/", {"username": "staff@example.org", "password": "wrong"}
        )
    response = client.post(
        "/admin/login/",
        {"username": "staff@example.org", "password": "right-horse-battery"},
    )
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
