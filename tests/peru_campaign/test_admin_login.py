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
    # A superuser sets up a second factor before the first admin page.
    assert client.get("/admin/").url == "/admin/second-factor/set-up/?next=%2Fadmin%2F"


def test_create_staff_user_refuses_a_duplicate_and_a_bad_address():
    call_command(
        "create_staff_user", "editor@example.org", stdout=open("/dev/null", "w")
    )
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_staff_user", "editor@example.org")
    with pytest.raises(CommandError, match="not a valid e-mail"):
        call_command("create_staff_user", "not-an-address")


def test_admin_login_is_locked_after_repeated_wrong_passwords(
    client, settings, fast_hashing
):
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


@pytest.fixture
def fast_hashing(settings):
    # Dozens of log-in attempts: the real hasher's cost is not what is tested.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _fail(client, username, ip):
    return client.post(
        "/admin/login/",
        {"username": username, "password": "wrong"},
        REMOTE_ADDR=ip,
    )


def test_many_usernames_from_one_address_lock_that_address(
    client, settings, fast_hashing
):
    get_user_model().objects.create_user(
        username="staff@example.org", password="right-horse-battery", is_staff=True
    )
    statuses = [
        _fail(client, f"guess{number}@example.org", "203.0.113.7").status_code
        for number in range(30)
    ]
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert statuses[limit:] == [429] * (30 - limit)
    # Even the right password for a real account is refused from there...
    locked = client.post(
        "/admin/login/",
        {"username": "staff@example.org", "password": "right-horse-battery"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert locked.status_code == 429
    # ...but not from another address.
    elsewhere = client.post(
        "/admin/login/",
        {"username": "staff@example.org", "password": "right-horse-battery"},
        REMOTE_ADDR="198.51.100.1",
    )
    assert elsewhere.status_code == 302


def test_one_username_from_many_addresses_locks_that_username(
    client, settings, fast_hashing
):
    get_user_model().objects.create_user(
        username="staff@example.org", password="right-horse-battery", is_staff=True
    )
    statuses = [
        _fail(client, "staff@example.org", f"198.51.100.{number}").status_code
        for number in range(1, 41)
    ]
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert statuses[limit:] == [429] * (40 - limit)
    # The account is paused from any address, the right password included.
    fresh_address = client.post(
        "/admin/login/",
        {"username": "staff@example.org", "password": "right-horse-battery"},
        REMOTE_ADDR="192.0.2.99",
    )
    assert fresh_address.status_code == 429
    # Other accounts are not.
    other = _fail(client, "someone-else@example.org", "192.0.2.99")
    assert other.status_code == 200


def test_the_lock_settings_cover_address_username_and_pair(settings):
    assert settings.AXES_LOCKOUT_PARAMETERS == [
        "ip_address",
        "username",
        ["username", "ip_address"],
    ]
    assert 5 <= settings.AXES_FAILURE_LIMIT <= 20
