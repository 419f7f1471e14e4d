"""A double click on "subscribe" leaves no address in PostgreSQL's log
(issue 22, item 4).

A unique violation makes PostgreSQL write the offending key, here the
subscriber's address, to its server log, which is kept and copied far more
loosely than the database.
"""

import pathlib
import threading
import uuid

import pytest
from django.db import connection, connections, transaction

from core.encryption import email_index
from newsletters import services
from newsletters.models import Subscriber

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def server_log() -> pathlib.Path:
    """The cluster's log, beside its data directory (scripts/localdb.sh)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data_directory = pathlib.Path(cursor.fetchone()[0])
    log = data_directory.parent / "server.log"
    if not log.is_file():
        pytest.skip("the database is not the project-local cluster")
    return log


def wait_until_blocked(backend_pids: set[int]) -> None:
    """Until one of these backends waits for a lock: the second subscribe is
    then inside its insert, held by the first one's transaction."""
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE pid = ANY(%s) AND wait_event_type = 'Lock'",
                [list(backend_pids)],
            )
            if cursor.fetchone()[0]:
                return


def test_simultaneous_subscribes_leave_no_address_in_the_server_log():
    log = server_log()
    log_size_before = log.stat().st_size
    address = f"double-click-{uuid.uuid4().hex[:12]}@example.org"
    first_inserted = threading.Event()
    release_first = threading.Event()
    second_pid = []
    errors = []

    def first():
        try:
            with transaction.atomic():
                services.subscriber_subscribe(email=address, language="en")
                first_inserted.set()
                release_first.wait()
        except Exception as error:  # the main thread reports it
            errors.append(error)
            first_inserted.set()
        finally:
            connections.close_all()

    def second():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                second_pid.append(cursor.fetchone()[0])
            services.subscriber_subscribe(email=address, language="en")
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    first_inserted.wait()
    threads[1].start()
    while not second_pid and threads[1].is_alive():
        threading.Event().wait(0.01)
    wait_until_blocked(set(second_pid))
    release_first.set()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Subscriber.objects.filter(email_normalised=email_index(address)).count() == 1
    with log.open("rb") as handle:
        handle.seek(log_size_before)
        written = handle.read().decode(errors="replace")
    assert address not in written
    assert "already exists" not in written


def test_four_simultaneous_subscribes_make_one_row():
    address = f"both-{uuid.uuid4().hex[:12]}@example.org"
    barrier = threading.Barrier(4)
    errors = []

    def subscribe():
        try:
            barrier.wait()
            services.subscriber_subscribe(email=address, language="es")
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=subscribe) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    subscriber = Subscriber.objects.get(email_normalised=email_index(address))
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.confirm_emails_sent >= 1
