"""Backups of the SQLite database: a consistent snapshot while sign-ups commit, one a day kept N
deep by the tick, and a clear refusal on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from coordinator.backup.restore import restore_backup
from coordinator.backup.snapshot import backup_database, write_backup
from coordinator.bus.models import OutboxEvent
from coordinator.cli import app
from coordinator.clock import FixedClock
from coordinator.composition import Runtime
from coordinator.db import transaction
from coordinator.people.models import Person
from coordinator.settings import Settings
from tests.api.signup_requests import sign_up
from tests.world import World, check_role_invariants

HISTORY_MEGABYTES = 12
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
runner = CliRunner()


def _rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return connection.execute(query).fetchall()


def _name(at: datetime) -> str:
    return f"coordinator-{at:%Y%m%dT%H%M%SZ}.db"


async def _history(world: World, *, megabytes: int) -> None:
    """A station's handled domain events of past years: enough pages that a backup takes a while."""
    rows = [
        {
            "event_type": "EventUpdated",
            "aggregate_type": "event",
            "aggregate_id": n,
            "station_id": world.station.id,
            "payload": {"note": "history " * 500},  # a page's worth
            "occurred_at": world.clock.now() - timedelta(days=400),
            "fanned_out": True,
        }
        for n in range(megabytes * 1024 * 1024 // 4096)
    ]
    async with transaction(world.sessionmaker) as session:
        await session.execute(insert(OutboxEvent), rows)


@sqlite_only
async def test_a_backup_during_a_burst_of_sign_ups_holds_exactly_the_commits_before_it(
    client: httpx.AsyncClient, world: World, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 30}])
    people = await world.people(150)
    await _history(world, megabytes=HISTORY_MEGABYTES)
    answered: list[int] = []
    reached = {count: asyncio.Event() for count in (30, 70, 110)}

    async def one(person: Person) -> None:
        response = await sign_up(client, world.organizer, event.id, person.id)
        assert response.status_code == 201, response.text
        answered.append(response.json()["id"])
        if len(answered) in reached:
            reached[len(answered)].set()

    burst = [asyncio.create_task(one(person)) for person in people]
    backups: list[tuple[set[int], Path, set[int]]] = []
    for n, count in enumerate(reached):
        async with asyncio.timeout(60):  # a failed request would never reach the count
            await reached[count].wait()
        committed_before = set(answered)  # a request answers after its commit
        path = await write_backup(settings, world.clock, to=tmp_path / f"b{n}")
        backups.append((committed_before, path, set(answered)))
    await asyncio.gather(*burst)

    # SQLite serializes writers, so sign-up ids are in commit order.
    committed = [signup.id for signup in await world.signups(event.id)]
    assert len(committed) == len(people)
    committed_meanwhile = 0
    for committed_before, path, committed_by_the_end in backups:
        assert path.name == _name(world.clock.now())
        assert _rows(path, "PRAGMA integrity_check") == [("ok",)]
        held = [row[0] for row in _rows(path, "SELECT id FROM signups ORDER BY id")]
        assert committed_before <= set(held)
        assert held == committed[: len(held)]  # no later commit without every earlier one
        committed_meanwhile += len(committed_by_the_end - set(held))
        announced = _rows(path, "SELECT aggregate_id FROM outbox_events WHERE aggregate_type = 'signup'")
        assert sorted(row[0] for row in announced) == held  # each sign-up with its domain event

    assert committed_meanwhile > 0, "sign-ups committed while a backup ran, after its snapshot"

    # Put the middle one back (the service stopped first) and check it as the service sees it.
    await runtime.engine.dispose()
    _, middle, _ = backups[1]
    restored = await restore_backup(settings, world.clock, middle, force=False)
    assert restored.replaced is not None
    assert _rows(restored.replaced, "SELECT count(*) FROM signups") == [(len(people),)]
    held = [row[0] for row in _rows(middle, "SELECT id FROM signups ORDER BY id")]
    assert [signup.id for signup in await world.signups(event.id)] == held
    await check_role_invariants(world, event.roles[0].id)
    late = await world.person()
    assert (await sign_up(client, world.organizer, event.id, late.id)).status_code == 201


@sqlite_only
async def test_the_daily_tick_keeps_the_newest_backups_and_nothing_else_of_the_folder(
    runtime: Runtime, settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    assert "backup_database" in [tick.name for tick in runtime.scheduler.ticks]
    folder = tmp_path / "kept"
    folder.mkdir()
    strangers = {"notes.txt", "coordinator-before-upgrade.db", "other-20261101T000000Z.db"}
    for name in strangers:
        (folder / name).write_text("not a backup of ours")
    settings = settings.model_copy(update={"backup_dir": str(folder), "backup_keep": 3})

    async def tick() -> int:
        return await backup_database(sessionmaker=runtime.sessionmaker, clock=clock, settings=settings)

    days = []
    for _ in range(5):
        assert await tick() >= 1
        days.append(clock.now())
        clock.set(clock.now() + timedelta(hours=23))
        assert await tick() == 0  # the newest is not a day old yet: a restart adds none
        clock.set(clock.now() + timedelta(hours=1))

    assert {path.name for path in folder.iterdir()} == strangers | {_name(day) for day in days[-3:]}
    for day in days[-3:]:
        assert _rows(folder / _name(day), "SELECT count(*) FROM alembic_version") == [(1,)]


@sqlite_only
async def test_keep_zero_turns_the_daily_backup_off(
    runtime: Runtime, settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"backup_dir": str(tmp_path / "none"), "backup_keep": 0})
    assert await backup_database(sessionmaker=runtime.sessionmaker, clock=clock, settings=settings) == 0
    assert not (tmp_path / "none").exists()


@sqlite_only
def test_the_command_writes_into_the_backups_folder_beside_the_database(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", database_url)
    result = runner.invoke(app, ["backup"])
    assert result.exit_code == 0, result.output
    (written,) = (tmp_path / "backups").iterdir()
    assert written.name.startswith("coordinator-")
    assert str(written) in result.output.replace("\n", "")
    assert _rows(written, "PRAGMA integrity_check") == [("ok",)]


def test_on_postgresql_the_command_refuses_and_points_to_the_readme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "COORDINATOR_DATABASE_URL", "postgresql+asyncpg://coordinator@127.0.0.1:5432/coordinator"
    )
    for command in (["backup"], ["restore", __file__]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1
        assert "pg_dump" in result.output
        assert "README" in result.output
