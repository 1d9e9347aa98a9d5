"""``coordinator import people|residents FILE --station CODE [--partial]`` against a real database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from coordinator.cli import app
from coordinator.clock import SystemClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.people.models import Person, Resident
from tests.factories import create_station
from tests.sheets import xlsx

runner = CliRunner()


async def _setup(url: str) -> None:
    engine = create_engine(url)
    async with transaction(create_sessionmaker(engine)) as session:
        await create_station(session, SystemClock(), code="kl-ypp")
    await engine.dispose()


async def _count(url: str, model: type[Person] | type[Resident]) -> int:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        count = int(await session.scalar(select(func.count()).select_from(model)) or 0)
    await engine.dispose()
    return count


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", database_url)
    asyncio.run(_setup(database_url))
    return database_url


def _file(tmp_path: Path, *rows: tuple[str, str]) -> str:
    path = tmp_path / "名单.xlsx"
    path.write_bytes(xlsx(("姓名", "手机号"), *rows))
    return str(path)


def test_cli_imports_people_into_the_station(url: str, tmp_path: Path) -> None:
    path = _file(tmp_path, ("张三", "13812341234"), ("李四", "13900001111"))
    result = runner.invoke(app, ["import", "people", path, "--station", "kl-ypp"])
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output
    assert asyncio.run(_count(url, Person)) == 2


def test_cli_prints_row_errors_and_exits_1_storing_nothing(url: str, tmp_path: Path) -> None:
    path = _file(tmp_path, ("张三", "13812341234"), ("坏号", "0855-8221234"))
    result = runner.invoke(app, ["import", "people", path, "--station", "kl-ypp"])
    assert result.exit_code == 1
    assert "invalid_phone" in result.output
    assert "nothing stored" in result.output
    assert asyncio.run(_count(url, Person)) == 0


def test_cli_partial_stores_the_good_rows(url: str, tmp_path: Path) -> None:
    path = _file(tmp_path, ("张三", "13812341234"), ("坏号", "0855-8221234"))
    result = runner.invoke(app, ["import", "people", path, "--station", "kl-ypp", "--partial"])
    assert result.exit_code == 0, result.output
    assert "invalid_phone" in result.output
    assert asyncio.run(_count(url, Person)) == 1


def test_cli_imports_residents_and_refuses_unknown_station(url: str, tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    path.write_bytes(xlsx(("姓名", "类别"), ("吴老奶", "空巢老人")))
    unknown = runner.invoke(app, ["import", "residents", str(path), "--station", "nowhere"])
    assert unknown.exit_code == 1
    result = runner.invoke(app, ["import", "residents", str(path), "--station", "kl-ypp"])
    assert result.exit_code == 0, result.output
    assert asyncio.run(_count(url, Resident)) == 1
