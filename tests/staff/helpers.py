"""Staff sessions that have passed the second factor, for tests that need the
admin but are not about logging in."""

import time

from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def confirmed_totp_device(user: AbstractBaseUser) -> TOTPDevice:
    """The user's enrolled authenticator app, enrolled now if they had none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(
        user=user, name="Test app", confirmed=True
    )


def current_code(device: TOTPDevice) -> str:
    """A code the device accepts now: the app's code for this moment, or for
    the next step if this one was already used (django-otp refuses a code
    twice, and a test may log the same person in twice within one step)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    step = max(totp.t(), device.last_t + 1)
    totp.time = device.t0 + step * device.step
    return f"{totp.token():0{device.digits}d}"


def pass_second_factor(client: Client, user: AbstractBaseUser) -> None:
    """Mark the client's logged-in session as verified with the user's app,
    as the verify page does once the right code is typed."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = confirmed_totp_device(user).persistent_id
    session.save()
