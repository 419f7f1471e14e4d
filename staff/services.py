"""Staff members' second factors: enrolling an app, recovery codes, verifying,
and an operator's reset of a lost device."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp import devices_for_user, match_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
# django-otp doubles a pause after each wrong code and refuses even the right
# one during it: say so, or a right code would look wrong.
PAUSE_MESSAGE = (
    "That code was not accepted. After a wrong code there is a pause that "
    "doubles each time: wait a little, then type the code the app shows then."
)


def totp_device_start(*, user: AbstractBaseUser) -> TOTPDevice:
    """The app device being enrolled: the same secret until it is confirmed,
    so reloading the page does not invalidate a QR code already scanned."""
    device = (
        TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    )
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=TOTP_DEVICE_NAME, confirmed=False
        )
    return device


def totp_device_confirm(*, user: AbstractBaseUser, token: str) -> TOTPDevice:
    """Confirm the app being enrolled with a code it shows; the first code
    proves the phone holds the secret."""
    device = (
        TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    )
    if device is None:
        raise ValidationError(
            "There is no app being set up: open the set-up page again."
        )
    if not device.verify_is_allowed()[0]:
        raise ValidationError(PAUSE_MESSAGE)
    if not device.verify_token(token.replace(" ", "")):
        raise ValidationError(
            "That code is not right. Check the app shows this site's entry, "
            "and type the six digits it shows now."
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


@transaction.atomic
def recovery_codes_create(*, user: AbstractBaseUser) -> list[str]:
    """New one-time recovery codes for the user, replacing any earlier ones.

    Returned to be shown once: afterwards only django-otp's stored tokens
    remain, each deleted when it is used."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(
        user=user, name=RECOVERY_DEVICE_NAME, confirmed=True
    )
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=code) for code in codes
    )
    return codes


def recovery_codes_remaining(*, user: AbstractBaseUser) -> int | None:
    """How many recovery codes are left, or None if the user never had any."""
    device = StaticDevice.objects.filter(user=user).first()
    return None if device is None else device.token_set.count()


def second_factor_verify(*, user: AbstractBaseUser, token: str) -> Device:
    """The device that accepts this code (an app's code or a recovery code,
    which is used up). Each device slows down repeated wrong codes itself."""
    token = token.strip().replace(" ", "").lower()
    device = match_token(user, token) if token else None
    if device is not None:
        return device
    if any(
        not other.verify_is_allowed()[0]
        for other in devices_for_user(user)
        if hasattr(other, "verify_is_allowed")
    ):
        raise ValidationError(PAUSE_MESSAGE)
    raise ValidationError(
        "That code is not right, or it was already used. Type the code your "
        "app shows now, or one of your recovery codes."
    )


@transaction.atomic
def second_factor_reset(*, user: AbstractBaseUser) -> int:
    """Remove every second-factor device of a user who lost theirs; they enrol
    again at their next log-in. Returns how many devices were removed."""
    devices = list(devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    return len(devices)
