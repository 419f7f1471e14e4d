import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "kT9vQ2mX7pL4wR8zN1bH6cF3jD5sG0aY-eU_iO2kT9vQ2mX7pL4wR8zN1bH6",
    "DJANGO_ALLOWED_HOSTS": "standwithperu.example",
    "CONTACT_EMAIL": "privacy@standwithperu.example",
    "CAMPAIGN_ORGANISATION": "Stand with Peru Network",
    "CAMPAIGN_POSTAL_ADDRESS": "1 Example Street, Lima",
}


def _manage(*args, env_overrides, drop=()):
    env = {**os.environ, **env_overrides}
    for name in drop:
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_production_values():
    completed = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_start_without_a_required_value_fails_clearly(missing):
    completed = _manage(
        "check", env_overrides=PRODUCTION_ENV, drop=(missing, "DJANGO_DEBUG")
    )
    assert completed.returncode != 0
    assert f"{missing} must be set in production" in completed.stderr


def test_responses_carry_strict_security_headers(client):
    response = client.get("/healthz")
    csp = response["Content-Security-Policy"]
    directives = dict(
        part.strip().split(" ", 1) for part in csp.split(";") if part.strip()
    )
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_production_settings_force_https_and_secure_cookies():
    probe = (
        "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='peru_campaign.settings';"
        "django.setup();from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.DEBUG)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        env={**os.environ, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.stdout.split() == ["True", "31536000", "True", "True", "False"]
