"""Cross-origin protection for the public forms, without a per-visitor token.

Django's CSRF protection needs a token in the page and a cookie in the
browser, so no two visitors get the same copy of a page and no cache may
share it. Browsers now say where a request comes from: `Sec-Fetch-Site`
(every current browser since 2023), else `Origin`. This follows Go 1.25's
net/http CrossOriginProtection and OWASP's Fetch-Metadata guidance:

- `Sec-Fetch-Site: same-origin` or `none` (typed in, bookmarked): allowed;
  any other value (`same-site`, `cross-site`): refused;
- no `Sec-Fetch-Site` but an `Origin`: allowed only if it is this site's own
  scheme and host (or one of CSRF_TRUSTED_ORIGINS);
- neither header: not a browser, so not a forged request from a visitor's
  browser; allowed, and the rate limits judge it.

Safe methods (GET, HEAD, OPTIONS) are always allowed. Staff pages and the
admin keep Django's CSRF middleware and tokens; only views wrapped in
`cross_origin_protected` skip it.
"""

from functools import partial, wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_cross_origin(request) -> bool:
    """True when a browser says this unsafe request comes from another site."""
    if request.method in SAFE_METHODS:
        return False
    # META, not request.headers: building that mapping of every header was
    # most of this check's cost on the sign POST.
    site = request.META.get("HTTP_SEC_FETCH_SITE", "")
    if site:
        return site not in {"same-origin", "none"}
    origin = request.META.get("HTTP_ORIGIN", "")
    if not origin:
        return False
    own_origins = {
        f"{request.scheme}://{request.get_host()}",
        # The public address, which is what browsers send behind a TLS proxy.
        "{0.scheme}://{0.netloc}".format(urlsplit(settings.SITE_URL)),
    }
    return origin not in own_origins and origin not in settings.CSRF_TRUSTED_ORIGINS


def cross_origin_protected(view=None, *, template="403_cross_origin.html"):
    """Replace Django's token check on a public form's view by the check above;
    a refusal renders `template` (the widget's fits inside its frame)."""
    if view is None:
        return partial(cross_origin_protected, template=template)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if is_cross_origin(request):
            return render(request, template, status=403)
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapper)
