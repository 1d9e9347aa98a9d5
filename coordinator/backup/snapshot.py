"""Writing backups: ``coordinator backup [--to DIR]`` and the daily ``backup_database`` tick go
through ``write_backup``; the tick then keeps the newest ``COORDINATOR_BACKUP_KEEP``."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.backup import sqlite
from coordinator.backup.files import (
    BackupRefused,
    backup_folder,
    backup_name,
    backups_in,
    database_file,
    sqlite_file,
)
from coordinator.clock import Clock
from coordinator.settings import Settings

BACKUP_EVERY = timedelta(days=1)
# The tick looks hourly whether the newest backup is a day old: a PC switched off at night still
# gets its backup soon after it is switched on.
BACKUP_CHECK_SECONDS = 3600.0


async def write_backup(settings: Settings, clock: Clock, *, to: Path | None = None) -> Path:
    """A consistent copy of the SQLite database, taken while the service may be writing, in
    ``to`` (default: ``backup_folder``); answers its path."""
    database = database_file(settings.database_url)
    folder = to if to is not None else backup_folder(settings)
    return await asyncio.to_thread(_write, database, folder, clock.now())


def _write(database: Path, folder: Path, at: datetime) -> Path:
    if not database.is_file():
        raise BackupRefused(f"数据库文件不存在：{database}", f"No database file at {database}")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / backup_name(database, at)
    if target.exists():
        raise BackupRefused(f"备份已存在：{target}", f"A backup of this second exists: {target}")
    with contextlib.closing(sqlite.connect(database)) as source:
        sqlite.copy_to_file(source, target)
    with contextlib.closing(sqlite.connect(target, read_only=True)) as copy:
        found = sqlite.problems(copy)
    if found:  # the database itself is damaged: keep the copy for an expert, out of the rotation
        damaged = target.rename(target.with_name(f"{target.name}.damaged"))
        raise BackupRefused(
            f"数据库检查未通过（{found[0]}），副本另存为：{damaged}",
            f"The database failed its integrity check ({found[0]}); its copy is kept as {damaged}",
            code="database_damaged",
            details={"problems": found[:20]},
        )
    return target


def prune(folder: Path, database: Path, *, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups of ``database`` in ``folder``; answers the deleted."""
    backups = backups_in(folder, database)
    old = [path for _, path in backups[: max(len(backups) - keep, 0)]]
    for path in old:
        path.unlink()
    return old


async def backup_database(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> int:
    """The tick: a backup when the newest in the folder is a day old (so restarts add none), then
    the pruning; answers the files written and deleted. Nothing on PostgreSQL, or with keep 0."""
    database = sqlite_file(settings.database_url)
    if database is None or settings.backup_keep == 0:
        return 0
    folder = backup_folder(settings)
    backups = backups_in(folder, database)
    age = clock.now() - backups[-1][0] if backups else None
    # A backup "from the future" (the clock was set back) must not stop the daily ones.
    if age is not None and timedelta(0) <= age < BACKUP_EVERY:
        return 0
    await write_backup(settings, clock)
    deleted = await asyncio.to_thread(prune, folder, database, keep=settings.backup_keep)
    return 1 + len(deleted)
