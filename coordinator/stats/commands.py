"""``coordinator stats rebuild`` and ``coordinator export …``: the roll-ups and the exports from a
terminal, with a progress bar. The operator holds the database credentials, so commands act with
an admin's rights (every station)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.clock import SystemClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.errors import Invalid, not_found
from coordinator.settings import Settings
from coordinator.stations.models import Station
from coordinator.stats import exports, monthly_report
from coordinator.stats.rebuild import rebuild
from coordinator.stats.service import participation, select_scope

OPERATOR = Principal(user_id=0, role=Role.admin, station_ids=frozenset())
STEPS = {"events": "活动 / events", "attendance": "出勤 / attendance", "counters": "计数 / counters",
         "cells": "汇总 / cells"}  # fmt: skip

stats_app = typer.Typer(help="Statistics roll-ups.", no_args_is_help=True)
export_app = typer.Typer(
    help="Export statistics, the attendance ledger or the monthly report.", no_args_is_help=True
)

StationOption = Annotated[str | None, typer.Option("--station", help="Station code (default: every station)")]
FromOption = Annotated[str | None, typer.Option("--from", help="First local date, YYYY-MM-DD")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last local date, YYYY-MM-DD")]
OutOption = Annotated[Path, typer.Option("--out", "-o", help="File to write (.xlsx or .csv)", dir_okay=False)]


def _progress(console: Console) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console)


def _date(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("日期格式应为 YYYY-MM-DD", f"--{field} must look like 2026-11-29", field=field) from exc


async def _station_id(session: AsyncSession, code: str | None) -> int | None:
    if code is None:
        return None
    station_id = await session.scalar(select(Station.id).where(Station.code == code))
    if station_id is None:
        raise not_found("服务站", "station", code)
    return station_id


async def _in_session(action: Callable[[AsyncSession], Awaitable[bytes | int]]) -> bytes | int:
    engine = create_engine(Settings().database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await action(session)
    finally:
        await engine.dispose()


def _run(action: Callable[[AsyncSession], Awaitable[bytes | int]], description: str) -> bytes | int:
    from coordinator.cli import run

    console = Console()
    with _progress(console) as progress:
        task = progress.add_task(description, total=None)
        result = run(_in_session(action))
        progress.update(task, completed=1, total=1)
    return result


@stats_app.command("rebuild")
def rebuild_command() -> None:
    """Recompute every roll-up from the attendance, event and service rows (one transaction)."""
    console = Console()
    with _progress(console) as progress:
        task = progress.add_task("重建统计 / rebuilding", total=len(STEPS))

        def step(name: str) -> None:
            progress.update(task, description=STEPS.get(name, name), advance=0 if name == "events" else 1)

        async def action(session: AsyncSession) -> int:
            return await rebuild(session, progress=step)

        from coordinator.cli import run

        counted = run(_in_session(action))
        progress.update(task, completed=len(STEPS))
    assert isinstance(counted, int)
    console.print(f"已统计 {counted} 场活动 / {counted} events counted")


@export_app.command("participation")
def export_participation(
    out: OutOption,
    station: StationOption = None,
    first: FromOption = None,
    last: ToOption = None,
    group_by: Annotated[list[str] | None, typer.Option("--group-by", help="month, theme, station …")] = None,
) -> None:
    """Participation statistics, as the API's /stats/export.xlsx or .csv (by the file's suffix)."""

    async def action(session: AsyncSession) -> bytes:
        station_id = await _station_id(session, station)
        first_day, last_day = _date(first, "from"), _date(last, "to")
        selection = await select_scope(session, OPERATOR, SystemClock(), station_id=station_id,
                                       first=first_day, last=last_day, group_by=group_by or [])  # fmt: skip
        answer = await participation(session, selection)
        names = await exports.Names.load(session)
        if out.suffix.lower() == ".csv":
            return exports.participation_csv(answer, names)
        return exports.participation_xlsx(answer, names, first=selection.first, last=selection.last)

    _write(out, _run(action, "导出参与统计 / exporting participation"))


@export_app.command("attendance")
def export_attendance(out: OutOption, station: Annotated[str, typer.Option("--station")],
                      first: FromOption = None, last: ToOption = None) -> None:  # fmt: skip
    """The attendance ledger of one station for a period (XLSX)."""

    async def action(session: AsyncSession) -> bytes:
        station_id = await _station_id(session, station)
        assert station_id is not None
        first_day, last_day = _date(first, "from"), _date(last, "to")
        selection = await select_scope(session, OPERATOR, SystemClock(), station_id=station_id,
                                       first=first_day, last=last_day, group_by=[])  # fmt: skip
        return await exports.attendance_ledger_xlsx(session, OPERATOR, station_id=station_id,
                                                    first=selection.first, last=selection.last)  # fmt: skip

    _write(out, _run(action, "导出出勤台账 / exporting the attendance ledger"))


@export_app.command("monthly")
def export_monthly(out: OutOption, station: Annotated[str, typer.Option("--station")],
                   month: Annotated[str, typer.Option(help="YYYY-MM")]) -> None:  # fmt: skip
    """The monthly report of one station (XLSX)."""

    async def action(session: AsyncSession) -> bytes:
        station_id = await _station_id(session, station)
        assert station_id is not None
        report = await monthly_report.build_report(session, OPERATOR, SystemClock(), Settings(),
                                                   station_id=station_id, month=month)  # fmt: skip
        return monthly_report.render(report, await exports.Names.load(session))

    _write(out, _run(action, "生成月度报表 / building the monthly report"))


def _write(out: Path, content: bytes | int) -> None:
    assert isinstance(content, bytes)
    out.write_bytes(content)
    typer.echo(f"{out} ({len(content)} bytes)")
