"""Send staff who owe a second factor to enrol or verify before the admin."""

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from .selectors import second_factor_missing, user_has_second_factor


class SecondFactorMiddleware:
    """After django-otp's OTPMiddleware, which tells whether the session is
    verified. Only the admin is guarded (it is the only staff UI); its log-out
    and the second-factor pages themselves (passkeys included) stay open."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._prefixes = None

    def __call__(self, request):
        if self._prefixes is None:
            # Resolved on the first request, once the URLconf is loaded.
            self._prefixes = (
                reverse("admin:index"),
                (reverse("admin:logout"), reverse("staff:verify")),
            )
        admin_prefix, open_prefixes = self._prefixes
        path = request.path
        if (
            path.startswith(admin_prefix)
            and not path.startswith(open_prefixes)
            and second_factor_missing(user=request.user)
        ):
            target = (
                "staff:verify"
                if user_has_second_factor(user=request.user)
                else "staff:enrol"
            )
            next_url = request.get_full_path() if request.method == "GET" else ""
            query = f"?{urlencode({'next': next_url})}" if next_url else ""
            return redirect(reverse(target) + query)
        return self.get_response(request)
