"""``coordinator stats rebuild`` and ``coordinator export``: the same figures from a terminal."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner, Result

from coordinator.cli import app as cli
from coordinator.stats.models import StatsCell
from tests.stats.scenario import Scenario
from tests.world import World


def _invoke(database_url: str, *args: str) -> Result:
    """The CLI runs its own event loop: give it a thread of its own, away from the test's loop."""
    env = {"COORDINATOR_DATABASE_URL": database_url, "COORDINATOR_DEBUG": "1", "COORDINATOR_LOG_JSON": "0"}
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(CliRunner().invoke, cli, list(args), env=env).result()


async def test_rebuild_reproduces_the_incremental_rollups(
    client: httpx.AsyncClient,
    world: World,
    scenario: Scenario,
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    params = {"from": "2026-01-01", "to": "2026-12-31", "group_by": "month,theme"}
    before = (await client.get("/api/v1/stats/participation", params=params, headers=world.admin)).json()
    async with sessionmaker() as session:
        cells_before = await session.scalar(select(func.count()).select_from(StatsCell))
    result = _invoke(database_url, "stats", "rebuild")
    assert result.exit_code == 0, result.output
    assert "4 events counted" in result.output  # e3 was cancelled
    after = (await client.get("/api/v1/stats/participation", params=params, headers=world.admin)).json()
    assert after == before
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(StatsCell)) == cells_before


async def test_export_commands_write_the_reports(
    scenario: Scenario, database_url: str, tmp_path: Path
) -> None:
    code = scenario.history.station.code
    monthly = tmp_path / "monthly.xlsx"
    result = _invoke(
        database_url, "export", "monthly", "--station", code, "--month", "2026-11", "--out", str(monthly)
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(io.BytesIO(monthly.read_bytes()))["活动统计"]
    assert [c.value for c in sheet[3]][:3] == ["入户走访", 1, 2]
    csv_file = tmp_path / "participation.csv"
    result = _invoke(database_url, "export", "participation", "--from", "2026-01-01", "--to", "2026-12-31",
                     "--group-by", "theme", "--out", str(csv_file))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert csv_file.read_text(encoding="utf-8-sig").splitlines()[-1].startswith("合计,4,6,4")
    missing = _invoke(database_url, "export", "monthly", "--station", "nowhere", "--month", "2026-11",
                      "--out", str(tmp_path / "x.xlsx"))  # fmt: skip
    assert missing.exit_code == 1
