"""The ``coordinator`` command: serve, worker, db upgrade, admin, demo, import, export."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from rich.console import Console

import coordinator.models  # noqa: F401  (every table mapped before first use)
from coordinator.auth.models import Role
from coordinator.auth.service import create_user
from coordinator.clock import SystemClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.errors import CoordinatorError
from coordinator.migrate import upgrade
from coordinator.people.import_cli import ImportKind, print_result, run_import
from coordinator.settings import Settings

app = typer.Typer(
    help="社工和志愿服务站协调服务 — coordination service for social-work stations", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
admin_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
import_app = typer.Typer(help="Import people or residents from XLSX/CSV files.", no_args_is_help=True)
app.add_typer(import_app, name="import")

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one async CLI action, turning our errors into a readable message and exit code 1."""
    try:
        return asyncio.run(coroutine)
    except CoordinatorError as exc:
        typer.secho(f"{exc.message} / {exc.message_en}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="API only; run `worker` elsewhere")
    ] = False,
) -> None:
    """Serve the API and pages (and, unless --no-scheduler, the scheduler ticks)."""
    settings = Settings()
    if settings.uses_default_secret and not settings.debug:
        typer.secho(
            "COORDINATOR_SECRET_KEY is the development default; set it (or COORDINATOR_DEBUG=1 locally).",
            fg=typer.colors.YELLOW,
            err=True,
        )
    if no_scheduler:
        settings = settings.model_copy(update={"scheduler_enabled": False})
    from coordinator.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, proxy_headers=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply migrations to COORDINATOR_DATABASE_URL."""

    async def _upgrade() -> None:
        engine = create_engine(Settings().database_url)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    run(_upgrade())
    typer.echo(f"database at {revision}")


@admin_app.command("create")
def admin_create(
    username: Annotated[str, typer.Option(help="Login name")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    role: Annotated[Role, typer.Option(help="admin, station_head or organizer")] = Role.admin,
    station_id: Annotated[list[int] | None, typer.Option("--station-id", help="Station (repeatable)")] = None,
) -> None:
    """Create a staff account (the first admin is made this way)."""

    async def _create() -> int:
        engine = create_engine(Settings().database_url)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                user = await create_user(
                    session=session,
                    clock=SystemClock(),
                    actor=None,
                    username=username,
                    password=password,
                    role=role,
                    station_ids=station_id or [],
                )
                return user.id
        finally:
            await engine.dispose()

    user_id = run(_create())
    typer.echo(f"created {role} {username} (id {user_id})")


ImportFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="XLSX or CSV file")]
ImportStation = Annotated[str, typer.Option("--station", help="Station code")]
ImportPartial = Annotated[
    bool, typer.Option("--partial", help="Store the good rows even when some rows fail")
]


def _import(kind: ImportKind, file: Path, station: str, partial: bool) -> None:
    console = Console()
    result = run(
        run_import(kind, file, station_code=station, partial=partial, settings=Settings(), console=console)
    )
    if print_result(result, console, partial=partial):
        raise typer.Exit(1)


@import_app.command("people")
def import_people(file: ImportFile, station: ImportStation, partial: ImportPartial = False) -> None:
    """Add or update people (volunteers, Party members, social workers); a known phone updates that person."""
    _import("people", file, station, partial)


@import_app.command("residents")
def import_residents(file: ImportFile, station: ImportStation, partial: ImportPartial = False) -> None:
    """Add or update ledger residents; a known ID number updates that resident."""
    _import("residents", file, station, partial)
