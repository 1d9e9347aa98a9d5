"""``coordinator import people|residents FILE --station CODE``: the importer run from a terminal."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.clock import SystemClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.errors import not_found
from coordinator.people.importing import ImportKind, file_too_large, import_records
from coordinator.people.schemas import ImportResult
from coordinator.progress import progress_bar
from coordinator.settings import Settings
from coordinator.stations.models import Station

# Whoever runs the CLI already holds the database credentials: it acts with an admin's rights.
_OPERATOR = Principal(user_id=0, role=Role.admin, station_ids=frozenset())
_PHASES = {"check": "检查 / checking", "store": "写入 / storing"}


def read_file(path: Path, max_bytes: int) -> bytes:
    if path.stat().st_size > max_bytes:
        raise file_too_large(max_bytes)
    return path.read_bytes()


async def run_import(
    kind: ImportKind, path: Path, *, station_code: str, partial: bool, settings: Settings, console: Console
) -> ImportResult:
    content = read_file(path, settings.import_max_bytes)
    engine = create_engine(settings.database_url, busy_timeout=settings.sqlite_busy_timeout_seconds)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with transaction(sessionmaker) as session:
            station_id = await session.scalar(select(Station.id).where(Station.code == station_code))
        if station_id is None:
            raise not_found("服务站", "station", station_code)
        with progress_bar(console, _PHASES["check"], _PHASES) as report:
            return await import_records(
                kind=kind,
                sessionmaker=sessionmaker,
                clock=SystemClock(),
                principal=_OPERATOR,
                settings=settings,
                station_id=station_id,
                content=content,
                partial=partial,
                progress=report,
            )
    finally:
        await engine.dispose()


def print_result(result: ImportResult, console: Console, *, partial: bool) -> bool:
    """Print the outcome and the per-row errors; answers whether the import was rejected."""
    if result.errors:
        table = Table(title="导入错误 / import errors")
        for column in ("行 row", "字段 field", "代码 code", "说明 message"):
            table.add_column(column)
        for error in result.errors:
            table.add_row(
                str(error.row), error.field or "", error.code, f"{error.message}\n{error.message_en}"
            )
        console.print(table)
    rejected = bool(result.errors) and not partial
    if rejected:
        count = len(result.errors)
        console.print(f"[red]{count} 处错误，未导入任何数据 / {count} errors, nothing stored[/red]")
    else:
        console.print(f"新增 created {result.created}，更新 updated {result.updated}")
    return rejected
