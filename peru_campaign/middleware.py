"""Middleware that keeps the site answering politely: while PostgreSQL is away,
to load balancers probing by IP, and to form posts Django cannot read; and
django-csp's, for the responses a browser renders."""

import logging

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, QueryDict
from django.http.response import HttpResponseRedirectBase
from django.template.loader import render_to_string
from django.utils.datastructures import MultiValueDict

from .views import healthz

logger = logging.getLogger(__name__)


def _is_connection_failure(exc) -> bool:
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    # Lock timeouts and serialisation failures are OperationalErrors too; only
    # a refused or lost connection (no SQLSTATE, class 08, or a server
    # shutdown 57P0x) means the database is unavailable.
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(("08", "57P"))


class DatabaseUnavailableMiddleware:
    """Turn a lost database connection into a friendly 503 page.

    Persistent connections are health-checked before reuse
    (CONN_HEALTH_CHECKS), so once the database is back the next request
    reconnects and the site recovers without a restart.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DatabaseError) and _is_connection_failure(exception):
            body = render_to_string("503.html", request=None)
            response = HttpResponse(body, status=503)
            response["Retry-After"] = "30"
            response["Cache-Control"] = "no-store"
            return response
        return None


class HealthCheckMiddleware:
    """Answer /healthz before the Host header is checked.

    Load balancers probe instances by IP address (Host: 10.0.0.5), which is
    rightly not in ALLOWED_HOSTS. Answering this one path here, ahead of
    CommonMiddleware (where Django validates the host), keeps every other
    path behind the host check. Placed after SecurityMiddleware so the
    answer still carries its headers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)


FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


class FormInputGuardMiddleware:
    """Refuse, with a plain 400 or 413, form posts Django cannot read.

    Django reads form data only as UTF-8 and raises on any other declared
    charset (or an unknown one, as a LookupError). Its own 400 and 404
    handlers then read the form again for their CSRF token and raise again,
    so the visitor got a bare 500 and the log a page of tracebacks. Reading
    the form here, once, and marking a failure as final stops that loop; the
    request is refused before it costs a query or a rate-limit slot.

    Placed after the middleware that add security headers (CSP, framing), so
    the refusal carries them; the CSRF check, the first reader of the form,
    runs later (in process_view).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refusal(self, request):
        charset = request.content_params.get("charset")
        # Exactly what Django accepts: no aliases (utf8) or other charsets.
        if charset is not None and charset.lower() != "utf-8":
            return self._refuse(request, 400, "unsupported charset")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.content_type == "application/x-www-form-urlencoded":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return self._refuse(request, 400, "invalid Content-Length")
            if limit is not None and length > limit:
                return self._refuse(request, 413, "body too large")
        try:
            request.POST  # noqa: B018 -- parse now, so a failure is caught once
        except (BadRequest, SuspiciousOperation, UnicodeDecodeError, ValueError):
            return self._refuse(request, 400, "unreadable form data")
        return None

    def _refuse(self, request, status, reason):
        # Nothing downstream (the CSRF check, error pages) may read it again.
        request._post, request._files = QueryDict(), MultiValueDict()
        # The path only: query strings and bodies can carry tokens or names.
        logger.warning(
            "Refused a form post to %s (%s): %d", request.path, reason, status
        )
        body = render_to_string("400.html", request=None)
        response = HttpResponse(body, status=status)
        response["Cache-Control"] = "no-store"
        return response


class HeadWithoutBodyMiddleware:
    """Send no body with an answer to HEAD.

    Views answer HEAD like GET (require_safe); Django leaves dropping the body
    to the server, and gunicorn does so with a warning for every request.
    Outermost, so every other middleware has finished with the response.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "HEAD" and not response.streaming:
            # Content-Length, set by CommonMiddleware, still gives the GET size.
            response.content = b""
        return response


class DocumentCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, for the responses a browser renders.

    A browser enforces the policy of the document it loads, and a redirect
    loads none: its policy is never applied. django-csp still builds it for
    every response, twice (enforced and report-only), and the sign POST's
    answer is a redirect (docs/benchmarks.md has what that cost).
    """

    def process_response(self, request, response):
        if isinstance(response, HttpResponseRedirectBase):
            return response
        return super().process_response(request, response)
