"""Enrol a second factor, verify it after the password, see recovery codes.

These pages are outside `admin_view` (which would refuse a session that has
not passed the second factor yet), so each checks for a logged-in staff
member itself and is never cached.
"""

from base64 import b32encode
from functools import wraps

import segno
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp_webauthn.models import WebAuthnCredential

from .forms import CodeForm
from .selectors import (
    second_factor_missing,
    user_has_second_factor,
    user_needs_second_factor,
)
from .services import (
    recovery_codes_create,
    recovery_codes_remaining,
    second_factor_verify,
    totp_device_confirm,
    totp_device_start,
)


def _staff_only(view):
    @wraps(view)
    @never_cache
    @require_http_methods(["GET", "HEAD", "POST"])
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapper


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return candidate
    return reverse("admin:index")


def _context(request, **extra):
    context = admin.site.each_context(request)
    if second_factor_missing(user=request.user):
        # Its links would only lead back here: no admin menu until verified.
        context.update(available_apps=[], is_nav_sidebar_enabled=False)
    return {**context, "next": _next_url(request), **extra}


def _after_verification(request, next_url: str):
    # Someone who has just enrolled has no recovery codes yet: show them once.
    if recovery_codes_remaining(user=request.user) is None:
        return redirect(reverse("staff:recovery_codes") + "?new=1")
    return redirect(next_url)


def _log_in_with_code(request, form, check) -> bool:
    """Whether the form's code passed `check` (a service that returns the
    device or raises ValidationError); the session is then verified with it."""
    if not form.is_valid():
        return False
    try:
        device = check(user=request.user, token=form.cleaned_data["code"])
    except ValidationError as error:
        form.add_error("code", error)
        return False
    otp_login(request, device)
    return True


@_staff_only
def verify(request):
    """After the password: the code from the app, a recovery code or a passkey."""
    if not second_factor_missing(user=request.user):
        return redirect(_next_url(request))
    if not user_has_second_factor(user=request.user):
        return redirect("staff:enrol")
    form = CodeForm(request.POST or None)
    if _log_in_with_code(request, form, second_factor_verify):
        return redirect(_next_url(request))
    has_passkey = WebAuthnCredential.objects.filter(
        user=request.user, confirmed=True
    ).exists()
    status = 400 if form.is_bound else 200
    return render(
        request,
        "staff/verify.html",
        _context(request, form=form, has_passkey=has_passkey, title="Second factor"),
        status=status,
    )


@_staff_only
def enrol(request):
    """First log-in: scan a QR code into an authenticator app, or add a passkey."""
    if not user_needs_second_factor(user=request.user):
        return redirect(_next_url(request))
    if user_has_second_factor(user=request.user):
        if second_factor_missing(user=request.user):
            return redirect("staff:verify")
        return redirect("staff:recovery_codes")
    device = totp_device_start(user=request.user)
    form = CodeForm(request.POST or None)
    if _log_in_with_code(request, form, totp_device_confirm):
        return _after_verification(request, _next_url(request))
    qr_code = segno.make(device.config_url, error="m").svg_inline(
        omitsize=True, title="QR code for your authenticator app"
    )
    return render(
        request,
        "staff/enrol.html",
        _context(
            request,
            form=form,
            qr_code=qr_code,
            secret=_grouped(device.bin_key),
            title="Set up a second factor",
        ),
        status=400 if form.is_bound else 200,
    )


def _grouped(key: bytes) -> str:
    # The same secret as the QR code, for typing into an app by hand.
    text = b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@_staff_only
def recovery_codes(request):
    """New codes are shown once, right after enrolment or on request."""
    if second_factor_missing(user=request.user) or not user_has_second_factor(
        user=request.user
    ):
        return redirect("staff:verify")
    codes = None
    if request.method == "POST" or (
        request.GET.get("new") and recovery_codes_remaining(user=request.user) is None
    ):
        codes = recovery_codes_create(user=request.user)
    return render(
        request,
        "staff/recovery_codes.html",
        _context(
            request,
            codes=codes,
            remaining=recovery_codes_remaining(user=request.user),
            title="Recovery codes",
        ),
    )
