"""A long-lived worker's database connection."""

from django.db import close_old_connections, connection


def connection_drop_if_broken() -> None:
    """After a database restart the worker's connection is broken; a web
    request would get a fresh one, a long-lived worker must ask for it.
    Inside a transaction the connection is left alone: closing it there
    would lose the transaction's work."""
    if not connection.in_atomic_block:
        close_old_connections()
