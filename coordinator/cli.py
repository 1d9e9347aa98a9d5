"""The ``coordinator`` command: serve, worker, db upgrade, admin, demo, import, export, backup, restore."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

import coordinator.models  # noqa: F401  (every table mapped before first use)
from coordinator.auth.models import Role
from coordinator.auth.service import create_user, reset_account
from coordinator.backup.restore import restore_backup
from coordinator.backup.snapshot import write_backup
from coordinator.clock import SystemClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.demo.command import looks_like_production, print_demo_result, run_demo
from coordinator.demo.loader import DEFAULT_SEED
from coordinator.errors import CoordinatorError
from coordinator.heap import freeze_startup_heap
from coordinator.migrate import upgrade
from coordinator.observability.logging import configure_logging
from coordinator.people.import_cli import print_result, run_import
from coordinator.people.importing import ImportKind
from coordinator.records.identity import IdCipher, reencrypt_all
from coordinator.settings import Settings
from coordinator.stats.commands import export_app, stats_app

app = typer.Typer(
    help="社工和志愿服务站协调服务 — coordination service for social-work stations", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
admin_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
import_app = typer.Typer(help="Import people or residents from XLSX/CSV files.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(stats_app, name="stats")
app.add_typer(export_app, name="export")

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
    _check_shared_settings(settings, host=host)
    if no_scheduler:
        settings = settings.model_copy(update={"scheduler_enabled": False})
    configure_logging(settings)
    from coordinator.app import create_app

    served = create_app(settings)
    freeze_startup_heap()
    # Forwarded headers are the app's to read, and only from COORDINATOR_TRUSTED_PROXIES: uvicorn's
    # own default would believe any X-Forwarded-For sent from this machine.
    uvicorn.run(served, host=host, port=port, log_config=None, proxy_headers=False)


def _check_shared_settings(settings: Settings, *, host: str | None) -> None:
    """Settings that are fine on a desk but unsafe where the service is shared (listening beyond
    this machine, or on PostgreSQL, the multi-instance setup served through a proxy) stop it
    there with exit 2; ``make run`` (SQLite, loopback) is only warned. COORDINATOR_DEBUG allows
    them everywhere.

    - The development secret is in the repository: anyone could sign login tokens and links.
    - An SMS provider without COORDINATOR_NOTIFY_RECEIPT_TOKEN: its receipt and reply callbacks
      answer 404, so delivery reports and the volunteers' "1"/"0" replies would be lost."""
    if settings.debug:
        return
    problems = []
    if settings.uses_default_secret:
        problems.append(
            "COORDINATOR_SECRET_KEY is the development default; set it (or COORDINATOR_DEBUG=1 locally)."
        )
    if settings.sms_provider != "console" and not settings.notify_receipt_token.get_secret_value():
        problems.append(
            f"COORDINATOR_SMS_PROVIDER={settings.sms_provider} needs COORDINATOR_NOTIFY_RECEIPT_TOKEN: "
            "its receipt and reply callbacks are refused without it."
        )
    if not problems:
        return
    shared = (host is not None and not _is_loopback(host)) or settings.database_url.startswith("postgresql")
    if not shared:
        for message in problems:
            typer.secho(message, fg=typer.colors.YELLOW, err=True)
        return
    for message in problems:
        typer.secho(f"拒绝以此配置运行 / Refusing to run: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


@app.command()
def worker(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port (path /metrics)")
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Address for the metrics port")] = "127.0.0.1",
) -> None:
    """Run only the scheduler ticks (outbox relay, reminders, series …), no HTTP API; stop with Ctrl-C."""
    from coordinator.scheduler.worker import run_worker

    settings = Settings()
    _check_shared_settings(settings, host=None)
    configure_logging(settings)
    freeze_startup_heap()
    run(run_worker(settings, metrics_port=metrics_port, metrics_host=metrics_host))


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
    user = run(
        _in_transaction(
            lambda session: create_user(
                session=session,
                clock=SystemClock(),
                actor=None,
                username=username,
                password=password,
                role=role,
                station_ids=station_id or [],
            )
        )
    )
    typer.echo(f"created {role} {username} (id {user.id})")


@admin_app.command("password")
def admin_password(
    username: Annotated[str, typer.Option(help="Login name")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Set a new password for a staff account; its sessions and tokens end."""
    run(_in_transaction(lambda session: reset_account(session=session, username=username, password=password)))
    typer.echo(f"new password set for {username}; every earlier login of it has ended")


@admin_app.command("reencrypt-ids")
def reencrypt_ids() -> None:
    """Re-encrypt every stored ID number with the first of COORDINATOR_ID_NUMBER_KEYS (after a rotation)."""
    cipher = IdCipher(Settings().id_number_keys)

    async def work(session: AsyncSession) -> int:
        return await reencrypt_all(session, cipher)

    count = run(_in_transaction(work))
    Console().print(f"已重新加密 {count} 个证件号码 / re-encrypted {count} ID numbers")


@admin_app.command("disable")
def admin_disable(username: Annotated[str, typer.Option(help="Login name")]) -> None:
    """Disable a staff account; its sessions and tokens end at once."""
    run(_in_transaction(lambda session: reset_account(session=session, username=username, disable=True)))
    typer.echo(f"{username} is disabled")


async def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """``work`` in one transaction on COORDINATOR_DATABASE_URL, for the account commands."""
    engine = create_engine(Settings().database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the database already has stations")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data")] = DEFAULT_SEED,
    force: Annotated[
        bool, typer.Option("--force", help="Load even though the settings look like production")
    ] = False,
) -> None:
    """Load four demo stations of Kaili with a year of activities (idempotent, keyed by station code)."""
    settings = Settings()
    console = Console()
    if looks_like_production(settings) and not force:
        message = "COORDINATOR_SECRET_KEY is set and debug is off: not loading demo logins (use --force)."
        typer.secho(message, fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(0 if if_empty else 1)
    result = run(run_demo(settings, seed=seed, if_empty=if_empty, console=console))
    if result is None:
        console.print("数据库已有服务站，跳过演示数据 / the database has stations; demo skipped")
    else:
        print_demo_result(result, console)


@app.command()
def backup(
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            file_okay=False,
            help="Folder (default: COORDINATOR_BACKUP_DIR, else backups/ beside the database)",
        ),
    ] = None,
) -> None:
    """Write a consistent copy of the SQLite database named with the UTC time (while the service runs)."""
    path = run(write_backup(Settings(), SystemClock(), to=to))
    typer.echo(f"备份已写入 / backup written: {path}")


@app.command()
def restore(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A file `coordinator backup` wrote")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Restore although another process has the database open")
    ] = False,
) -> None:
    """Put a backup back after checking it, migrated up if older; the replaced database is kept aside."""
    if force:
        typer.secho(
            "--force：服务若仍在运行，恢复后请重启 / if the service is still running, restart it after",
            fg=typer.colors.YELLOW,
            err=True,
        )
    restored = run(restore_backup(Settings(), SystemClock(), file, force=force))
    migrated = f" → {restored.head}" if restored.revision != restored.head else ""
    typer.echo(f"已恢复 / restored {file} → {restored.database} (schema {restored.revision}{migrated})")
    if restored.replaced is not None:
        typer.echo(f"原数据库另存为 / the replaced database is kept as {restored.replaced}")


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
