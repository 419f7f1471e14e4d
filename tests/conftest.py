"""Shared fixtures. Tests run against the real PostgreSQL started by `make test`."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from tests.staff.helpers import pass_second_factor

# Timings belong in `make bench`: Hypothesis's default 200 ms deadline fails
# property tests whenever the shared 2-core machine is busy.
hypothesis_settings.register_profile("project", deadline=None)
hypothesis_settings.load_profile("project")


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The hashed-manifest storage needs `collectstatic` first; unit tests only
    # need working {% static %} URLs, and so do most browser tests;
    # tests/e2e/test_page_weight.py collects and serves the real storage itself.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(autouse=True)
def _no_language_left_over():
    # LocaleMiddleware activates each request's language and leaves it active
    # in the thread: after a test that fetched /es/..., a test rendering
    # outside a request would otherwise run in Spanish.
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _pages_render_afresh(settings):
    # Public pages are shared for PAGE_CACHE_SECONDS (core.http_cache); tests
    # check a change on the next request, and tests of that cache set it.
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch):
    # The admin asks staff who can see personal data for a second factor
    # (staff/). Tests that log staff in with force_login (pytest-django's
    # admin_client too) are about what comes after, so their sessions count as
    # verified; tests of the second factor log in through the real pages, or
    # pass second_factor=False.
    original = Client.force_login

    def force_login(self, user, backend=None, *, second_factor=True):
        original(self, user, backend)
        if second_factor and user.is_staff:
            pass_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def campaign_content(db):
    call_command("load_campaign_content", verbosity=0, stdout=open("/dev/null", "w"))


# ------------------------------------------------------------------------------
# Background jobs (Procrastinate), against the real procrastinate_* tables.
# ------------------------------------------------------------------------------
JOB_TABLES = (
    "procrastinate_periodic_defers, procrastinate_events, procrastinate_jobs, "
    "procrastinate_workers"
)


@pytest.fixture
def run_jobs(django_db_serialized_rollback, transactional_db):
    """Run the queued jobs now, in this process, with Procrastinate's own worker.

    `run_jobs()` starts the worker the production command starts (same tasks,
    retry strategies and status updates), lets it take every job that is due
    until none is left, and returns. `run_jobs(queues=["emails"])` limits it to
    some queues; `run_jobs(include_scheduled=True)` first makes the jobs
    scheduled for later due (a retry's back-off, as if its time had come).

    The worker reads the queue through its own connection pool and runs each
    task in a thread with its own Django connection, so it cannot see what a
    test transaction has not committed: a test that uses this fixture gets a
    committed database (pytest-django's `transactional_db`, restored from the
    serialized migration data afterwards, like the other transactional tests).

    Periodic schedules are left out while it runs: the worker would defer any
    periodic job due in the last ten minutes, then run it or not depending on
    timing. A test that wants a periodic job defers it itself.
    """
    from django.db import connection
    from procrastinate.contrib.django import procrastinate_app
    from procrastinate.periodic import PeriodicRegistry

    # The app itself: procrastinate.contrib.django.app is a proxy to it, and an
    # attribute set on the proxy would not reach the worker.
    app = procrastinate_app.current_app

    def run(*, queues=None, include_scheduled=False):
        if include_scheduled:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE procrastinate_jobs SET scheduled_at = now() "
                    "WHERE status = 'todo' AND scheduled_at > now()"
                )
        schedules, app.periodic_registry = app.periodic_registry, PeriodicRegistry()
        # The worker's task threads end with the run; without CONN_MAX_AGE
        # their connections would outlive them and block dropping the test
        # database (every thread's connection shares this settings dict).
        conn_max_age = connection.settings_dict["CONN_MAX_AGE"]
        connection.settings_dict["CONN_MAX_AGE"] = 0
        try:
            with app.replace_connector(app.connector.get_worker_connector()):
                app.run_worker(
                    queues=queues,
                    wait=False,
                    install_signal_handlers=False,
                    listen_notify=False,
                )
        finally:
            app.periodic_registry = schedules
            connection.settings_dict["CONN_MAX_AGE"] = conn_max_age

    return run


@pytest.fixture(autouse=True)
def _empty_job_queue_after_transactional_tests(request, django_db_blocker):
    # Django's flush after a transactional test empties only the tables of
    # Django-managed models; Procrastinate's are unmanaged, so their rows would
    # leak into the next tests on the same database.
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if transactional:
        from django.db import connection

        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {JOB_TABLES}")
