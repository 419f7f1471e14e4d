"""Keep the site answering politely while PostgreSQL is away."""

from django.db import DatabaseError, InterfaceError, OperationalError
from django.template.loader import render_to_string


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
            from django.http import HttpResponse

            body = render_to_string("503.html", request=None)
            response = HttpResponse(body, status=503)
            response["Retry-After"] = "30"
            response["Cache-Control"] = "no-store"
            return response
        return None
