"""Who must prove a second factor before the admin opens, and whether they have.

The one list of permissions that reveal supporters' personal data (or let a
person give themselves such a permission) is here; the middleware, the admin
site and the tests all read it.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django_otp import user_has_device

# Each of these shows signers' or subscribers' names and addresses, hands
# out access to them (API tokens), or lets the holder grant any of them to
# themselves (users, groups, other people's second-factor devices).
PERSONAL_DATA_PERMISSIONS = frozenset(
    {
        # Signatures: the list, each signer's page, invalidation.
        "petitions.view_signature",
        "petitions.change_signature",
        "petitions.delete_signature",
        "petitions.add_signature",
        "petitions.invalidate_signature",
        # The mailing list and the delivery rows that name its subscribers.
        "newsletters.view_subscriber",
        "newsletters.change_subscriber",
        "newsletters.delete_subscriber",
        "newsletters.add_subscriber",
        "newsletters.view_delivery",
        "newsletters.change_delivery",
        "newsletters.delete_delivery",
        # The delivery list and pack name every signer; one also has e-mails.
        "organising.export_delivery_list",
        "organising.export_emails",
        # A partner's token reads signers through the API.
        "api.view_apitoken",
        "api.add_apitoken",
        "api.change_apitoken",
        "api.delete_apitoken",
        # Whoever edits users or groups can give themselves all of the above.
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.delete_user",
        "auth.add_group",
        "auth.change_group",
        "auth.delete_group",
        # Another person's second factor: its secret, or removing it.
        "otp_totp.view_totpdevice",
        "otp_totp.add_totpdevice",
        "otp_totp.change_totpdevice",
        "otp_totp.delete_totpdevice",
        "otp_static.view_staticdevice",
        "otp_static.add_staticdevice",
        "otp_static.change_staticdevice",
        "otp_static.delete_staticdevice",
        "otp_static.view_statictoken",
        "otp_static.add_statictoken",
        "otp_static.change_statictoken",
        "otp_static.delete_statictoken",
        "django_otp_webauthn.view_webauthncredential",
        "django_otp_webauthn.add_webauthncredential",
        "django_otp_webauthn.change_webauthncredential",
        "django_otp_webauthn.delete_webauthncredential",
    }
)


def user_needs_second_factor(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether this staff member must prove a second factor to use the admin:
    every superuser, and anyone holding one of PERSONAL_DATA_PERMISSIONS
    directly or through a group."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    # One query for the user's and their groups' permissions, cached on the
    # user object for the rest of the request.
    return not PERSONAL_DATA_PERMISSIONS.isdisjoint(user.get_all_permissions())


def user_has_second_factor(*, user: AbstractBaseUser) -> bool:
    """Whether the user has finished enrolling a device (an app, a passkey or
    recovery codes) and so is asked for it rather than sent to enrol."""
    return user_has_device(user, confirmed=True)


def second_factor_missing(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether this session has passed the password but not yet the second
    factor that the user needs."""
    if not user.is_authenticated or not user.is_staff:
        return False
    # Set by django-otp's OTPMiddleware; a request without it is unverified.
    if getattr(user, "is_verified", lambda: False)():
        return False
    return user_needs_second_factor(user=user)
