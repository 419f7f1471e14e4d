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
    "SITE_URL": "https://standwithperu.example",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
    "CAMPAIGN_ORGANISATION": "Stand with Peru Network",
    "CAMPAIGN_POSTAL_ADDRESS": "1 Example Street, Lima",
    "SIGNER_DATA_KEY": "Rk9yVGVzdHNPbmx5LVNpZ25lckRhdGFLZXktMzJieXQ",
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


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "SITE_URL",
        "EMAIL_URL",
        "SIGNER_DATA_KEY",
    ],
)
def test_production_start_without_a_required_value_fails_clearly(missing):
    completed = _manage(
        "check", env_overrides=PRODUCTION_ENV, drop=(missing, "DJANGO_DEBUG")
    )
    assert completed.returncode != 0
    assert f"{missing} must be set in production" in completed.stderr
    deploy_check = _manage(
        "check", "--deploy", env_overrides=PRODUCTION_ENV, drop=(missing,)
    )
    assert deploy_check.returncode != 0


@pytest.mark.parametrize(
    "backend",
    [
        {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
        {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
        {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"},
        {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"},
        {"EMAIL_URL": "consolemail://"},
        {"EMAIL_BACKEND": ""},
    ],
)
def test_production_refuses_an_email_backend_that_delivers_nothing(backend):
    env = {**PRODUCTION_ENV, "EMAIL_URL": "", **backend}
    completed = _manage("check", env_overrides=env)
    assert completed.returncode != 0
    assert "EMAIL_URL must be set in production" in completed.stderr


def test_production_accepts_a_delivering_backend_without_email_url():
    env = {
        **PRODUCTION_ENV,
        "EMAIL_URL": "",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    }
    completed = _manage("check", env_overrides=env)
    assert completed.returncode == 0, completed.stderr


def test_development_keeps_its_local_defaults():
    env = {"DJANGO_ENV": "development"}
    completed = _manage(
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings as s; print(s.SITE_URL, s.EMAIL_BACKEND)",
        env_overrides=env,
        drop=("EMAIL_URL", "SITE_URL", "EMAIL_BACKEND"),
    )
    assert completed.stdout.split() == [
        "http://127.0.0.1:8000",
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_responses_carry_strict_security_headers(client):
    # Not /healthz: it is answered before the host check and the CSP middleware.
    response = client.get("/robots.txt")
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


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/robots.txt", "/", "/es/"])
def test_pages_turn_off_browser_features_they_do_not_use(client, path):
    policy = {
        part.split("=")[0].strip(): part.split("=")[1]
        for part in client.get(path)["Permissions-Policy"].split(",")
    }
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "browsing-topics",
        "interest-cohort",
    ):
        assert policy[feature] == "()", feature


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
