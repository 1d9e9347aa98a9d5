"""``coordinator demo [--if-empty] [--seed N] [--force]``: the demo loader run from a terminal.

The demo creates logins with a published password, so it refuses to run against what looks like
a production instance (a real ``COORDINATOR_SECRET_KEY`` and debug off) unless ``--force`` is
given; with ``--if-empty`` (what ``make run`` uses) it then only says why it skipped."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from coordinator.clock import Clock, SystemClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.demo.loader import DEMO_PASSWORD, DemoResult, database_has_stations, load_demo
from coordinator.progress import progress_bar
from coordinator.settings import Settings

_ROLE_LABELS = {"admin": "管理员 admin", "station_head": "站长 station head", "organizer": "社工 organizer"}


def looks_like_production(settings: Settings) -> bool:
    return not settings.uses_default_secret and not settings.debug


async def run_demo(
    settings: Settings, *, seed: int, if_empty: bool, console: Console, clock: Clock | None = None
) -> DemoResult | None:
    """Load the demo in one transaction; None when ``if_empty`` found stations already there."""
    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            if if_empty and await database_has_stations(session):
                return None
            with progress_bar(console, "演示数据 / demo data") as report:
                return await load_demo(
                    session, clock or SystemClock(), seed=seed, progress=report, settings=settings
                )
    finally:
        await engine.dispose()


def print_demo_result(result: DemoResult, console: Console) -> None:
    if result.skipped:
        console.print(f"已存在，未改动 / already present, left alone: {', '.join(result.skipped)}")
    if not result.created and not result.logins:
        console.print("演示数据已齐全，没有新增 / the demo data is complete; nothing added")
        return
    counted = ", ".join(f"{table} {count}" for table, count in sorted(result.counts.items()))
    console.print(f"已载入演示服务站 / loaded demo stations: {', '.join(result.created) or '-'}")
    console.print(f"[dim]{counted}[/dim]")
    if result.logins:
        table = Table(title=f"演示账号（密码均为 {DEMO_PASSWORD}）/ demo logins (password {DEMO_PASSWORD})")
        for column in ("用户名 username", "角色 role", "服务站 station"):
            table.add_column(column)
        for login in result.logins:
            table.add_row(login.username, _ROLE_LABELS[login.role], login.station or "全部 all")
        console.print(table)
        console.print("[yellow]仅供演示：正式使用前请删除这些账号 / for trying the service only[/yellow]")
