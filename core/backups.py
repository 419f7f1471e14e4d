"""Backups with pgBackRest: taking them, reading their state, and the restore drill.

pgBackRest does the work (the WAL archive, full, differential and incremental
backups, encryption, retention); this module runs its command line with the
configuration in ``settings.PGBACKREST_CONFIG`` and reads its JSON. Restores
run through scripts/backup.sh, which also knows the project-local cluster
(docs/operations.md).

The command runs as the owner of the configuration file: that file holds the
repository's passphrase and belongs to the user the database server runs as,
who alone may read the data folder and the repository.
"""

import datetime
import json
import logging
import os
import pwd
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection, transaction
from psycopg import sql

logger = logging.getLogger(__name__)

BACKUP_KINDS = ("full", "diff", "incr")
BACKUP_SCRIPT = Path(settings.BASE_DIR) / "scripts" / "backup.sh"


class BackupError(Exception):
    """pgBackRest failed, or is not set up; the message says what it printed."""


def _pgbackrest_command(*arguments: str) -> list[str]:
    config = Path(settings.PGBACKREST_CONFIG)
    executable = shutil.which("pgbackrest")
    if executable is None:
        raise BackupError("pgbackrest is not installed (scripts/system-packages.sh).")
    if not config.exists():
        raise BackupError(
            f"No pgBackRest configuration at {config}; start the local cluster "
            "(make db) or set PGBACKREST_CONFIG (docs/operations.md)."
        )
    command = [
        executable,
        f"--config={config}",
        f"--stanza={settings.PGBACKREST_STANZA}",
        *arguments,
    ]
    owner = config.stat().st_uid
    if os.geteuid() == 0 and owner != 0:
        command = ["runuser", "-u", pwd.getpwuid(owner).pw_name, "--", *command]
    return command


def _pgbackrest(*arguments: str, timeout: float | None = None) -> str:
    result = subprocess.run(
        _pgbackrest_command(*arguments),
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
        timeout=timeout,
    )
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(
            f"pgbackrest {arguments[-1]} failed ({result.returncode}): "
            + (message[-1] if message else "no message")
        )
    return result.stdout


def backup_info() -> list[dict]:
    """The backups in the repository, oldest first, as pgBackRest describes them."""
    stanzas = json.loads(_pgbackrest("--output=json", "info", timeout=60))
    return [backup for stanza in stanzas for backup in stanza.get("backup", [])]


def backup_latest_finished_at() -> datetime.datetime | None:
    """When the newest backup in the repository finished; None when there is none.

    Alerts and the operator's view measure the last backup's age from this.
    """
    stops = [backup["timestamp"]["stop"] for backup in backup_info()]
    if not stops:
        return None
    return datetime.datetime.fromtimestamp(max(stops), tz=datetime.UTC)


def backup_create(*, kind: str) -> str:
    """Take a full, differential or incremental backup now; returns its label.

    Raises BackupError (the job then fails, and its row and the log say so).
    """
    if kind not in BACKUP_KINDS:
        raise ValueError(f"A backup is one of {', '.join(BACKUP_KINDS)}, not {kind!r}.")
    logger.info("Backup (%s) of stanza %s starting", kind, settings.PGBACKREST_STANZA)
    try:
        _pgbackrest(f"--type={kind}", "backup")
    except BackupError:
        logger.exception("Backup (%s) failed", kind)
        raise
    label = backup_info()[-1]["label"]
    logger.info("Backup (%s) finished: %s", kind, label)
    return label


def backup_create_first() -> str | None:
    """A full backup when the repository holds none yet (a new cluster, a new
    repository); returns its label, or None when there was one already."""
    if backup_info():
        return None
    return backup_create(kind="full")


# ------------------------------------------------------------------------------
# The restore drill
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableTally:
    """A table's row count and an order-free checksum of its primary keys."""

    rows: int
    checksum: str


@dataclass
class DrillResult:
    tables: int = 0
    rows: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        if self.ok:
            return f"restore drill: OK, {self.tables} tables, {self.rows} rows match"
        return "restore drill: FAILED, " + "; ".join(self.differences)


# Every table of the public schema with its primary key columns (all columns
# when it has none). Unlogged tables come back empty from any restore.
TABLES_QUERY = """
SELECT c.relname,
       coalesce(
         (SELECT array_agg(a.attname ORDER BY k.n)
            FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
           WHERE i.indrelid = c.oid AND i.indisprimary),
         '{}') AS key_columns
  FROM pg_class c
  JOIN pg_namespace s ON s.oid = c.relnamespace
 WHERE s.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
 ORDER BY c.relname
"""


def _tally_query(table: str, key_columns: list[str]) -> sql.Composed:
    keys = (
        sql.SQL("ROW({})").format(sql.SQL(", ").join(map(sql.Identifier, key_columns)))
        if key_columns
        else sql.Identifier(table)
    )
    return sql.SQL(
        "SELECT count(*),"
        " coalesce(sum(hashtextextended(({keys})::text, 0)::numeric), 0)"
        " FROM public.{table}"
    ).format(keys=keys, table=sql.Identifier(table))


def table_tallies(cursor) -> dict[str, TableTally]:
    """Row counts and key checksums of every table in the public schema."""
    cursor.execute(TABLES_QUERY)
    tallies = {}
    for table, key_columns in cursor.fetchall():
        cursor.execute(
            _tally_query(table, list(key_columns)).as_string(cursor.connection)
        )
        rows, checksum = cursor.fetchone()
        tallies[table] = TableTally(rows=rows, checksum=str(checksum))
    return tallies


def tallies_compare(
    *, live: dict[str, TableTally], restored: dict[str, TableTally]
) -> DrillResult:
    result = DrillResult(tables=len(live), rows=sum(t.rows for t in live.values()))
    for table in sorted(live.keys() | restored.keys()):
        if table not in restored:
            result.differences.append(f"{table}: missing from the restored copy")
        elif table not in live:
            result.differences.append(f"{table}: only in the restored copy")
        elif live[table] != restored[table]:
            rows, restored_rows = live[table].rows, restored[table].rows
            result.differences.append(
                f"{table}: {rows} rows live, {restored_rows} restored"
                + ("" if rows != restored_rows else ", keys differ")
            )
    return result


def restore_point_create_with_tallies() -> tuple[str, dict[str, TableTally]]:
    """A named restore point, and the live tallies as of that moment.

    One repeatable-read transaction: its snapshot is taken by the statement
    that writes the restore point, so the tallies describe what a restore to
    that point holds (a write committing within that one statement could
    still fall on either side).
    """
    name = f"restore-drill-{uuid.uuid4().hex[:12]}"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_create_restore_point(%s)", [name])
        tallies = table_tallies(cursor.cursor)
    return name, tallies


def _script_environment() -> dict[str, str]:
    return {
        **os.environ,
        "PGBACKREST_CONFIG": str(settings.PGBACKREST_CONFIG),
        "PGBACKREST_STANZA": settings.PGBACKREST_STANZA,
    }


def restore_run(*, into: Path, target: str = "") -> Path:
    """Restore the repository into the new folder ``into`` and start it there.

    ``target``: empty (the end of the archive), a time, or name:RESTORE_POINT.
    Returns the folder of the restored cluster's socket.
    """
    command = [str(BACKUP_SCRIPT), "restore", str(into), target]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env=_script_environment()
    )
    if result.returncode != 0:
        raise BackupError(f"restore failed: {result.stderr.strip() or result.stdout}")
    return into.resolve() / "run"


def restore_discard(*, into: Path) -> None:
    subprocess.run(
        [str(BACKUP_SCRIPT), "discard", str(into)],
        check=True,
        env=_script_environment(),
    )


def restore_drill_run(*, scratch: Path) -> DrillResult:
    """Restore the latest backup and WAL into ``scratch`` and compare it with
    the live database, table by table; the scratch cluster is removed after."""
    name, live = restore_point_create_with_tallies()
    # Archives the segment holding the restore point, and waits for it.
    _pgbackrest("check", timeout=600)
    database = settings.DATABASES["default"]
    try:
        socket = restore_run(into=scratch, target=f"name:{name}")
        with (
            psycopg.connect(
                host=str(socket), user=database["USER"], dbname=database["NAME"]
            ) as restored_connection,
            restored_connection.cursor() as cursor,
        ):
            restored = table_tallies(cursor)
    finally:
        if scratch.exists():
            restore_discard(into=scratch)
    return tallies_compare(live=live, restored=restored)
