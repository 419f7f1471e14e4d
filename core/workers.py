"""Care a long-lived worker process needs that a web request gets for free."""

from django.db import close_old_connections, connection


def drop_broken_connection() -> None:
    """After a database restart the worker's connection is broken; a web
    request would get a fresh one, a long-lived worker must ask for it."""
    if not connection.in_atomic_block:
        close_old_connections()
