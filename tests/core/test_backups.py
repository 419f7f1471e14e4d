"""Backups with point-in-time recovery (core/backups.py, scripts/backup.sh).

The test runs a cluster of its own, with its own pgBackRest stanza and
repository in a temporary folder, so it never touches var/backups: it backs
up, signs through the service, deletes the signatures as a mistaken shell
command would, and restores to a moment before the delete.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from core import backups
from core.encryption import decrypt
from core.tasks import backup_differential, backup_first, backup_full
from petitions.models import Signature

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
SIGNERS = ["ana@example.org", "bruno@example.org", "carla@example.org"]

SIGN = """
from petitions.models import Petition
from petitions.services import signature_create
petition = Petition.objects.create(
    slug="justice", title="Justice", summary="s", body="b", addressed_to="Peru",
    goal=10, state=Petition.State.OPEN,
)
for email in {signers!r}:
    signature_create(petition=petition, full_name="A signer", email=email, country="PE")
"""


@pytest.fixture
def cluster():
    """A fresh cluster archiving into its own stanza, with this schema."""
    if shutil.which("pgbackrest") is None:
        pytest.fail("pgbackrest is not installed: run scripts/system-packages.sh test")
    # Under /tmp, not pytest's private tmp_path: the server's own user must
    # reach the folder when the tests run as root.
    folder = Path(tempfile.mkdtemp(prefix="peru-backup-test-"))
    folder.chmod(0o755)
    env = {
        **os.environ,
        "DJANGO_ENV": "development",
        "LOCALDB_DIR": str(folder / "live"),
        "LOCALDB_NAME": "peru_restore_test",
        "PGBACKREST_STANZA": "restore_test",
    }
    env.pop("DATABASE_URL", None)
    env.pop("BACKUP_DIR", None)
    env.pop("PGBACKREST_CONFIG", None)
    run = _runner(env)
    try:
        run("scripts/localdb.sh", "start")
        schema = _dump_schema()
        run(
            "psql",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(folder / "live/run"),
            "-U",
            "peru",
            "-d",
            "peru_restore_test",
            input=schema,
        )
        yield folder, run
    finally:
        for restored in folder.glob("restored*"):
            subprocess.run([ROOT / "scripts/backup.sh", "discard", restored], env=env)
        subprocess.run([ROOT / "scripts/localdb.sh", "stop"], env=env)
        # The cluster may live under /var/tmp behind a link (localdb.sh).
        shutil.rmtree((folder / "live").resolve(), ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


def _runner(env):
    def run(*command, input=None):
        result = subprocess.run(
            command, cwd=ROOT, env=env, input=input, capture_output=True, text=True
        )
        assert result.returncode == 0, f"{command}: {result.stderr}{result.stdout}"
        return result.stdout

    return run


def _dump_schema() -> str:
    database = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": database.get("PASSWORD") or ""}
    command = ["pg_dump", "--schema-only", "--no-owner", "-d", database["NAME"]]
    command += ["-h", database.get("HOST") or "localhost", "-U", database["USER"]]
    if database.get("PORT"):
        command += ["-p", str(database["PORT"])]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, check=True
    ).stdout


def _query(socket: Path, statement: str) -> list[tuple]:
    with psycopg.connect(
        host=str(socket), user="peru", dbname="peru_restore_test", autocommit=True
    ) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_restore_to_a_time_before_a_delete_brings_the_signatures_back(cluster):
    folder, run = cluster
    live = folder / "live/run"
    table = Signature._meta.db_table
    config = folder / "live/backup/pgbackrest/pgbackrest.conf"
    with override_settings(PGBACKREST_CONFIG=config, PGBACKREST_STANZA="restore_test"):
        # What the worker does on first start: a full backup, once.
        assert backups.backup_create_first().endswith("F")
        assert backups.backup_create_first() is None
        assert backups.backup_latest_finished_at() is not None
    run(sys.executable, "manage.py", "shell", "-c", SIGN.format(signers=SIGNERS))

    # The drill restores the latest state and finds it equal to the live one.
    drill = folder / "restored-drill"
    out = run(sys.executable, "manage.py", "restore_drill", "--scratch", str(drill))
    assert out.strip().splitlines()[-1].startswith("restore drill: OK, ")
    assert not drill.exists()

    [(before_delete,)] = _query(live, "SELECT clock_timestamp()::text")
    _query(live, f"DELETE FROM {table}")
    run("scripts/backup.sh", "check")
    assert _query(live, f"SELECT count(*) FROM {table}") == [(0,)]

    out = run("scripts/backup.sh", "restore", str(folder / "restored"), before_delete)

    assert "restored into" in out
    restored = folder / "restored/run"
    # Stored encrypted (core.encryption): read back with the site's key.
    emails = _query(restored, f"SELECT email FROM {table}")
    assert sorted(decrypt(email) for (email,) in emails) == sorted(SIGNERS)
    # The drill's comparison sees the delete as a difference in that table.
    with (
        psycopg.connect(host=str(live), user="peru", dbname="peru_restore_test") as a,
        psycopg.connect(
            host=str(restored), user="peru", dbname="peru_restore_test"
        ) as b,
    ):
        result = backups.tallies_compare(
            live=backups.table_tallies(a.cursor()),
            restored=backups.table_tallies(b.cursor()),
        )
    assert not result.ok
    assert result.summary() == (
        f"restore drill: FAILED, {table}: 0 rows live, {len(SIGNERS)} restored"
    )


def test_a_backup_kind_pgbackrest_does_not_know_is_refused():
    with pytest.raises(ValueError, match="full, diff, incr"):
        backups.backup_create(kind="everything")


@pytest.mark.parametrize("task", [backup_first, backup_full, backup_differential])
def test_scheduled_backups_run_only_where_the_schedule_is_on(task, tmp_path):
    missing = tmp_path / "pgbackrest.conf"
    with override_settings(BACKUP_SCHEDULE=False, PGBACKREST_CONFIG=missing):
        task(timestamp=0)
    with (
        override_settings(BACKUP_SCHEDULE=True, PGBACKREST_CONFIG=missing),
        pytest.raises(backups.BackupError, match="No pgBackRest configuration"),
    ):
        task(timestamp=0)
