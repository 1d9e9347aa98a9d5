"""``coordinator restore``: only a sound backup of a schema this code knows goes back, migrated up
if older; never over a database another process has open unless forced; the replaced one is kept."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from coordinator.backup.files import BackupRefused
from coordinator.backup.restore import restore_backup
from coordinator.backup.snapshot import write_backup
from coordinator.cli import app
from coordinator.clock import FixedClock
from coordinator.composition import Runtime
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.migrate import current_revision, head_revision, upgrade
from coordinator.people.models import Person
from coordinator.settings import Settings
from coordinator.stations.models import Station
from tests.world import World

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
runner = CliRunner()


@pytest.fixture
async def backup(world: World, settings: Settings, tmp_path: Path) -> Path:
    """A backup holding three people; the live database then gets a fourth."""
    await world.people(3)
    path = await write_backup(settings, world.clock, to=tmp_path / "backups")
    await world.person()
    return path


def _execute(path: Path, *statements: str) -> None:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        for statement in statements:
            connection.execute(statement)
        connection.commit()


def _people(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        count: int = connection.execute("SELECT count(*) FROM people").fetchone()[0]
        return count


def _left_beside(folder: Path, kind: str) -> set[str]:
    """What a restore left beside the database: ``replaced`` or ``restoring`` files."""
    return {path.name for path in folder.iterdir() if f"-{kind}-" in path.name}


async def _refusal(settings: Settings, clock: FixedClock, file: Path, *, force: bool) -> BackupRefused:
    with pytest.raises(BackupRefused) as refused:
        await restore_backup(settings, clock, file, force=force)
    return refused.value


def _damaged(backup: Path) -> Path:
    """The backup with the pages after the schema overwritten, as a failing disk might leave it."""
    data = bytearray(backup.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[2 * page : len(data) - page] = b"\x5a" * (len(data) - 3 * page)
    damaged = backup.with_name("damaged.db")
    damaged.write_bytes(bytes(data))
    return damaged


def _foreign(folder: Path) -> Path:
    """Another application's SQLite database."""
    path = folder / "notes.db"
    _execute(
        path, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)", "INSERT INTO notes VALUES (1, 'x')"
    )
    return path


def _not_a_database(folder: Path) -> Path:
    path = folder / "readme.txt"
    path.write_text("这不是数据库 / not a database")
    return path


def _newer(backup: Path) -> Path:
    """The backup as a later version of coordinator would have written it."""
    newer = backup.with_name("newer.db")
    newer.write_bytes(backup.read_bytes())
    _execute(newer, "UPDATE alembic_version SET version_num = '0099'")
    return newer


async def test_a_damaged_foreign_or_newer_file_is_refused_and_nothing_changes(
    world: World, settings: Settings, backup: Path, tmp_path: Path
) -> None:
    for file, code in (
        (_damaged(backup), "backup_damaged"),
        (_foreign(tmp_path), "backup_foreign"),
        (_not_a_database(tmp_path), "backup_unreadable"),
        (_newer(backup), "backup_newer_schema"),
    ):
        refusal = await _refusal(settings, world.clock, file, force=True)  # the checks refuse, not the lock
        assert refusal.code == code, file
    assert "0099" in refusal.message_en
    assert await world.count(Person) == 4
    assert _left_beside(tmp_path, "replaced") | _left_beside(tmp_path, "restoring") == set()


async def test_restore_puts_the_backup_back_and_keeps_the_replaced_database_aside(
    world: World, runtime: Runtime, settings: Settings, backup: Path, tmp_path: Path
) -> None:
    await runtime.engine.dispose()  # the service is stopped

    restored = await restore_backup(settings, world.clock, backup, force=False)

    assert (restored.revision, restored.head) == (head_revision(), head_revision())
    assert await world.count(Person) == 3
    assert restored.replaced is not None
    assert _left_beside(tmp_path, "replaced") == {restored.replaced.name}
    assert _people(restored.replaced) == 4
    assert _left_beside(tmp_path, "restoring") == set()
    assert _people(backup) == 3  # the backup is only read


async def test_restore_refuses_while_the_service_has_the_database_open_unless_forced(
    world: World, settings: Settings, backup: Path, tmp_path: Path
) -> None:
    # The app's engine keeps its connections open, as a running `coordinator serve` does.
    refusal = await _refusal(settings, world.clock, backup, force=False)
    assert refusal.code == "database_in_use"
    assert "--force" in refusal.message_en
    assert await world.count(Person) == 4
    assert _left_beside(tmp_path, "replaced") == set()

    restored = await restore_backup(settings, world.clock, backup, force=True)
    assert await world.count(Person) == 3  # the open connections read the restored content
    assert restored.replaced is not None
    assert _people(restored.replaced) == 4


async def test_an_older_backup_is_migrated_up_to_the_code_head(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    old_url = f"sqlite+aiosqlite:///{tmp_path / 'old' / 'coordinator.db'}"
    (tmp_path / "old").mkdir()
    engine = create_engine(old_url)
    await upgrade(engine, "0002")
    async with transaction(create_sessionmaker(engine)) as session:
        # Only the columns of 0002: the model's newer ones are not in that schema.
        await session.execute(
            insert(Station).values(
                name="老站", code="kl-old", timezone="Asia/Shanghai", created_at=clock.now()
            )
        )
    await engine.dispose()
    backup = await write_backup(settings.model_copy(update={"database_url": old_url}), clock)

    restored = await restore_backup(settings, clock, backup, force=True)

    assert (restored.revision, restored.head) == ("0002", head_revision())
    engine = create_engine(settings.database_url)
    try:
        assert await current_revision(engine) == head_revision()
        async with create_sessionmaker(engine)() as session:
            assert await session.get(Station, 1) is not None
    finally:
        await engine.dispose()


def test_a_new_machine_gets_the_database_back_with_the_commands(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _execute(
        tmp_path / "coordinator.db",
        "INSERT INTO stations (name, code, timezone, created_at)"
        " VALUES ('营盘坡社区', 'kl-ypp', 'Asia/Shanghai', '2026-12-04 05:00:00')",
    )
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", database_url)
    assert runner.invoke(app, ["backup"]).exit_code == 0
    (backup,) = (tmp_path / "backups").iterdir()
    target = tmp_path / "new-pc" / "coordinator.db"
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", f"sqlite+aiosqlite:///{target}")

    result = runner.invoke(app, ["restore", str(backup)])

    assert result.exit_code == 0, result.output
    assert "restored" in result.output
    with contextlib.closing(sqlite3.connect(target)) as restored:
        assert restored.execute("SELECT code FROM stations").fetchall() == [("kl-ypp",)]
    assert sorted(path.name for path in target.parent.iterdir()) == ["coordinator.db"]


def test_the_command_names_the_reason_it_refuses(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", database_url)
    result = runner.invoke(app, ["restore", str(_foreign(tmp_path))])
    assert result.exit_code == 1
    assert "not a coordinator database" in result.output
