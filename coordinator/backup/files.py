"""Where the database and its backups are, and what a backup is called:
``{database stem}-{UTC time}.db``, e.g. ``coordinator-20261204T053000Z.db`` (no colons, so the
name is valid on Windows too); the time in the name, not the file's, says how old it is."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from coordinator.errors import Conflict
from coordinator.settings import Settings

STAMP = "%Y%m%dT%H%M%SZ"
BACKUP_FOLDER = "backups"


class BackupRefused(Conflict):
    default_code = "backup_refused"


def sqlite_file(database_url: str) -> Path | None:
    """The SQLite database file of ``database_url``; None for PostgreSQL or an in-memory database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def database_file(database_url: str) -> Path:
    """``sqlite_file``, or the reason there is nothing to back up or restore here."""
    path = sqlite_file(database_url)
    if path is not None:
        return path
    if make_url(database_url).get_backend_name() == "postgresql":
        raise BackupRefused(
            "PostgreSQL 数据库请用 pg_dump / pg_restore 或时间点恢复（WAL 归档）备份，见 README 的"
            " Backups 一节",
            "On PostgreSQL, back up with pg_dump / pg_restore or point-in-time recovery "
            "(WAL archiving): see the README, section 'Backups'",
            code="backup_postgresql",
        )
    raise BackupRefused("内存数据库没有可备份的文件", "An in-memory database has no file to back up")


def backup_folder(settings: Settings) -> Path:
    """``COORDINATOR_BACKUP_DIR``, or the ``backups`` folder beside the database."""
    if settings.backup_dir:
        return Path(settings.backup_dir)
    return database_file(settings.database_url).parent / BACKUP_FOLDER


def backup_name(database: Path, at: datetime) -> str:
    return f"{database.stem}-{at.astimezone(UTC).strftime(STAMP)}.db"


def backups_in(folder: Path, database: Path) -> list[tuple[datetime, Path]]:
    """The backups of ``database`` in ``folder``, oldest first; other files are not ours."""
    pattern = re.compile(rf"{re.escape(database.stem)}-(\d{{8}}T\d{{6}}Z)\.db")
    found: list[tuple[datetime, Path]] = []
    for path in folder.iterdir() if folder.is_dir() else ():
        match = pattern.fullmatch(path.name)
        if match is None:
            continue
        with contextlib.suppress(ValueError):  # digits that are no date: not one of ours
            found.append((datetime.strptime(match[1], STAMP).replace(tzinfo=UTC), path))
    return sorted(found)
