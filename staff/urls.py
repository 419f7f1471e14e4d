"""The second-factor pages, mounted at /admin/second-factor/ (before the admin,
whose catch-all would otherwise take the path). The passkey ceremony's JSON
endpoints sit under it too, in django-otp-webauthn's own namespace, which its
template tags reverse."""

from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("", views.verify, name="verify"),
    path("set-up/", views.enrol, name="enrol"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
]
