"""The second-factor pages, mounted at /admin/second-factor/ (before the admin,
whose catch-all would otherwise take the path)."""

from django.urls import include, path

from . import views

app_name = "staff"

urlpatterns = [
    path("", views.verify, name="verify"),
    path("set-up/", views.enrol, name="enrol"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
    # The passkey ceremony's JSON endpoints (django-otp-webauthn).
    path("passkeys/", include("django_otp_webauthn.urls")),
]
