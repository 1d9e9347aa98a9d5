"""``coordinator restore FILE``: a backup is copied and checked (integrity, foreign keys, a schema
revision this code knows), migrated up on the copy if older, and only then written over the
database, whose previous content is kept aside beside it. It refuses while another process has
the database open (``force`` overrides)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from coordinator.backup import sqlite
from coordinator.backup.files import STAMP, BackupRefused, database_file
from coordinator.clock import Clock
from coordinator.db import create_engine
from coordinator.migrate import head_revision, is_known_revision, upgrade
from coordinator.settings import Settings

# Without ``force``, how long to wait for the database to be free (a command reading it briefly).
IN_USE_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class Restored:
    database: Path
    revision: str  # the backup's schema revision, before any migration
    head: str
    replaced: Path | None  # the previous database, kept aside; None when there was none


async def restore_backup(settings: Settings, clock: Clock, backup: Path, *, force: bool) -> Restored:
    """Check ``backup``, migrate a copy of it to head, and write it over the database; ``force``
    does so even though another process has the database open."""
    database = database_file(settings.database_url)
    stamp = clock.now().strftime(STAMP)
    aside = database.with_name(f"{database.stem}-replaced-{stamp}.db")
    work = database.with_name(f"{database.stem}-restoring-{stamp}.db")
    if aside.exists():
        raise BackupRefused(f"文件已存在：{aside}", f"{aside} exists; try again in a second")
    database.parent.mkdir(parents=True, exist_ok=True)
    head = head_revision()
    assert head is not None  # the code has migrations
    try:
        revision = await asyncio.to_thread(_checked_copy, backup, work, head)
        if revision != head:
            engine = create_engine(f"sqlite+aiosqlite:///{work}")
            try:
                await upgrade(engine)
            finally:
                await engine.dispose()
        replaced = await asyncio.to_thread(_put_in_place, work, database, aside, force)
    finally:
        for leftover in ("", "-wal", "-shm", "-journal"):
            work.with_name(work.name + leftover).unlink(missing_ok=True)
    return Restored(database=database, revision=revision, head=head, replaced=replaced)


def _checked_copy(backup: Path, work: Path, head: str) -> str:
    """Copy ``backup`` (left untouched) to ``work`` and check the copy; answers its revision."""
    try:
        with (
            contextlib.closing(sqlite.connect(backup, read_only=True)) as source,
            contextlib.closing(sqlite.connect(work)) as copy,
        ):
            sqlite.copy_into(source, copy)
            found = sqlite.problems(copy)
            rows = [] if found else _revisions(copy)
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(
            f"{backup} 不是可读的 SQLite 数据库（{exc}）",
            f"{backup} is not a readable SQLite database ({exc})",
            code="backup_unreadable",
        ) from exc
    if found:
        raise BackupRefused(
            f"备份已损坏：{backup}（{found[0]}）",
            f"{backup} is damaged ({found[0]})",
            code="backup_damaged",
            details={"problems": found[:20]},
        )
    if len(rows) != 1:
        raise BackupRefused(
            f"{backup} 不是本系统的数据库备份",
            f"{backup} is not a coordinator database",
            code="backup_foreign",
        )
    revision = rows[0]
    if not is_known_revision(revision):
        raise BackupRefused(
            f"备份的数据库结构版本 {revision} 比本程序（{head}）新，或来自其他应用：请先升级程序",
            f"The backup's schema revision {revision} is unknown to this coordinator (newest {head}): "
            "it comes from a newer version or another application; upgrade coordinator first",
            code="backup_newer_schema",
        )
    return revision


def _revisions(copy: sqlite3.Connection) -> list[str]:
    try:
        return [row[0] for row in copy.execute("SELECT version_num FROM alembic_version")]
    except sqlite3.OperationalError:  # no such table: not made by our migrations
        return []


def _put_in_place(work: Path, database: Path, aside: Path, force: bool) -> Path | None:
    with contextlib.closing(sqlite.connect(work)) as source:
        if not database.exists():  # a new machine: nothing to keep aside
            sqlite.copy_to_file(source, database)
            return None
        timeout = sqlite.BUSY_TIMEOUT_SECONDS if force else IN_USE_WAIT_SECONDS
        with contextlib.closing(sqlite.connect(database, timeout=timeout)) as live:
            if not force:
                _keep_others_out(live, database)
            sqlite.copy_to_file(live, aside)
            # Written through SQLite, not by renaming files: its WAL stays consistent, and a
            # process that still has it open (``force``) reads the restored content.
            sqlite.copy_into(source, live)
    return aside


def _keep_others_out(live: sqlite3.Connection, database: Path) -> None:
    """Hold the database alone until ``live`` closes, or refuse: every open connection, even an
    idle one of a running service, keeps a shared lock on a WAL database, so an exclusive one is
    granted only when nobody else has the file open."""
    live.execute("PRAGMA locking_mode=EXCLUSIVE")
    try:
        live.execute("BEGIN EXCLUSIVE")
        live.execute("COMMIT")  # the lock stays: exclusive locking mode releases it at close
    except sqlite3.OperationalError as exc:
        raise BackupRefused(
            f"数据库 {database} 正被其他进程使用（服务是否在运行？）：请先停止服务，或加 --force",
            f"The database {database} is open in another process (is `coordinator serve` or "
            "`worker` running?): stop it first, or pass --force",
            code="database_in_use",
        ) from exc
