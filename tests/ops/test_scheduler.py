"""The scheduler: started and stopped with the app, ticks fired with their arguments, never overlapping."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from coordinator import cli
from coordinator.app import create_app
from coordinator.bus.models import OutboxEvent
from coordinator.clock import FixedClock
from coordinator.composition import Runtime, build_runtime
from coordinator.domain_events import DomainEventType
from coordinator.observability.metrics import Metrics
from coordinator.scheduler.jobs import Tick
from coordinator.scheduler.runner import Scheduler
from coordinator.settings import Settings
from tests.bus.conftest import emit_events


@pytest.fixture(autouse=True)
def _unfrozen_heap() -> Iterator[None]:
    """``serve`` and ``worker`` freeze the heap (``coordinator.heap``): not this test process's."""
    yield
    gc.unfreeze()


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait (at most 10 s) for a state the scheduler changes in its own time."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110  (the state belongs to the scheduler; nothing to await)
            await asyncio.sleep(0.01)


def test_relay_is_the_first_tick_and_every_tick_has_a_name_and_interval_of_its_own(runtime: Runtime) -> None:
    ticks = runtime.scheduler.ticks
    assert ticks[0].name == "relay"
    assert ticks[0].interval(Settings(relay_interval_seconds=0.5)) == 0.5
    assert len({tick.name for tick in ticks}) == len(ticks)
    assert all(tick.interval(Settings()) > 0 for tick in ticks)  # a misspelt interval_setting fails here


async def test_lifespan_starts_the_scheduler_whose_relay_tick_fans_out_events(
    settings: Settings, clock: FixedClock
) -> None:
    app = create_app(settings.model_copy(update={"scheduler_enabled": True}), clock=clock)
    sessionmaker: async_sessionmaker[AsyncSession] = app.state.sessionmaker

    async with app.router.lifespan_context(app):
        scheduler: Scheduler = app.state.scheduler
        assert scheduler.running
        assert sorted(scheduler.job_ids()) == sorted(tick.name for tick in scheduler.ticks)
        await emit_events(sessionmaker, clock, (DomainEventType.person_created, 1))
        await eventually(lambda: scheduler.runs.get("relay", 0) >= 2)  # a run after the event was stored
        async with sessionmaker() as session:
            assert await session.scalar(select(OutboxEvent.fanned_out)) is True

    assert not scheduler.running


async def test_scheduler_is_off_when_disabled(settings: Settings, clock: FixedClock) -> None:
    app = create_app(settings, clock=clock)  # the test settings disable it, like `serve --no-scheduler`

    async with app.router.lifespan_context(app):
        assert app.state.scheduler is None


async def test_tick_gets_its_arguments_and_a_failing_tick_is_counted_not_raised(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, settings: Settings
) -> None:
    received: list[dict[str, Any]] = []

    async def record(**kwargs: Any) -> int:
        received.append(kwargs)
        return 1

    async def broken(**kwargs: Any) -> int:
        raise RuntimeError("tick failed")

    scheduler = Scheduler(
        [Tick("record", 3600, record), Tick("broken", 3600, broken)],
        sessionmaker=sessionmaker,
        clock=clock,
        settings=settings,
        metrics=Metrics(),
    )
    scheduler.start()
    try:
        await eventually(lambda: bool(received) and _errors(scheduler) == 1)
    finally:
        await scheduler.shutdown()

    assert received == [{"sessionmaker": sessionmaker, "clock": clock, "settings": settings}]
    assert scheduler.runs == {"record": 1}


def _errors(scheduler: Scheduler) -> float:
    assert scheduler.metrics is not None
    value: float = scheduler.metrics.scheduler_ticks.labels(tick="broken", outcome="error")._value.get()
    return value


async def test_a_slow_tick_never_runs_twice_at_once(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, settings: Settings
) -> None:
    running = 0
    most = 0
    finished = 0

    async def slow(**_: Any) -> int:
        nonlocal running, most, finished
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.2)  # four firings' worth
        running -= 1
        finished += 1
        return 0

    scheduler = Scheduler(
        [Tick("slow", 0.05, slow)], sessionmaker=sessionmaker, clock=clock, settings=settings
    )
    scheduler.start()
    try:
        await eventually(lambda: finished >= 2)
    finally:
        await scheduler.shutdown()

    assert most == 1


async def test_worker_runs_the_ticks_without_http(settings: Settings, clock: FixedClock) -> None:
    fired = asyncio.Event()

    async def probe(**_: Any) -> int:
        fired.set()
        return 0

    worker = build_runtime(settings, clock, scheduled=[Tick("probe", 3600, probe)])  # as `coordinator worker`
    worker.start(scheduler=True)
    try:
        await asyncio.wait_for(fired.wait(), 10)
        assert worker.scheduler.running
    finally:
        await worker.aclose()
    assert not worker.scheduler.running


@pytest.mark.parametrize(("args", "scheduler_enabled"), [([], True), (["--no-scheduler"], False)])
def test_serve_starts_the_scheduler_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch, args: list[str], scheduler_enabled: bool
) -> None:
    served: list[Any] = []
    monkeypatch.setenv("COORDINATOR_DEBUG", "1")
    monkeypatch.setattr("uvicorn.run", lambda app, **_: served.append(app))
    monkeypatch.setattr(cli, "configure_logging", lambda settings: None)

    result = CliRunner().invoke(cli.app, ["serve", *args])

    assert result.exit_code == 0, result.output
    assert served[0].state.settings.scheduler_enabled is scheduler_enabled


@pytest.mark.parametrize(
    ("host", "database", "exit_code"),
    [
        ("127.0.0.1", "sqlite+aiosqlite:///coordinator.db", 0),
        ("localhost", "sqlite+aiosqlite:///coordinator.db", 0),
        ("::1", "sqlite+aiosqlite:///coordinator.db", 0),
        ("0.0.0.0", "sqlite+aiosqlite:///coordinator.db", 2),
        ("10.0.0.5", "sqlite+aiosqlite:///coordinator.db", 2),
        ("127.0.0.1", "postgresql+asyncpg://coordinator@db/coordinator", 2),  # behind a proxy
    ],
)
def test_serve_refuses_the_development_secret_where_it_is_shared(
    monkeypatch: pytest.MonkeyPatch, host: str, database: str, exit_code: int
) -> None:
    """The default secret is public: a shared service using it would let anyone sign tokens."""
    served: list[Any] = []
    monkeypatch.delenv("COORDINATOR_SECRET_KEY", raising=False)
    monkeypatch.setenv("COORDINATOR_DEBUG", "0")
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", database)
    monkeypatch.setattr("uvicorn.run", lambda app, **_: served.append(app))
    monkeypatch.setattr(cli, "configure_logging", lambda settings: None)

    result = CliRunner().invoke(cli.app, ["serve", "--host", host, "--no-scheduler"])

    assert (result.exit_code, len(served)) == (exit_code, 1 - exit_code // 2), result.output
    assert "COORDINATOR_SECRET_KEY" in result.output
    if exit_code:
        assert "Refusing to run" in result.output
        assert "拒绝" in result.output


def test_a_worker_on_postgresql_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[bool] = []

    def run(coroutine: Coroutine[Any, Any, Any]) -> None:
        coroutine.close()
        started.append(True)

    monkeypatch.delenv("COORDINATOR_SECRET_KEY", raising=False)
    monkeypatch.setenv("COORDINATOR_DEBUG", "0")
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", "postgresql+asyncpg://coordinator@db/coordinator")
    monkeypatch.setattr(cli, "run", run)

    result = CliRunner().invoke(cli.app, ["worker"])

    assert (result.exit_code, started) == (2, []), result.output
    assert "Refusing to run" in result.output


def test_serve_with_a_secret_of_its_own_listens_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Any] = []
    monkeypatch.setenv("COORDINATOR_SECRET_KEY", "a-secret-of-this-deployment-0123456789")
    monkeypatch.setenv("COORDINATOR_DEBUG", "0")
    monkeypatch.setattr("uvicorn.run", lambda app, **_: served.append(app))
    monkeypatch.setattr(cli, "configure_logging", lambda settings: None)

    result = CliRunner().invoke(cli.app, ["serve", "--host", "0.0.0.0", "--no-scheduler"])

    assert (result.exit_code, len(served)) == (0, 1), result.output
    assert "COORDINATOR_SECRET_KEY" not in result.output


def test_serve_and_worker_freeze_the_heap_built_before_they_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Full collections then skip the start-up objects (``coordinator.heap``)."""
    frozen_when_run: list[int] = []

    def run(coroutine: Coroutine[Any, Any, Any]) -> None:
        coroutine.close()
        frozen_when_run.append(gc.get_freeze_count())

    monkeypatch.setenv("COORDINATOR_DEBUG", "1")
    monkeypatch.setattr("uvicorn.run", lambda app, **_: frozen_when_run.append(gc.get_freeze_count()))
    monkeypatch.setattr(cli, "run", run)
    monkeypatch.setattr(cli, "configure_logging", lambda settings: None)
    for command in ("serve", "worker"):
        gc.unfreeze()
        result = CliRunner().invoke(cli.app, [command])
        assert result.exit_code == 0, result.output
    assert len(frozen_when_run) == 2
    assert all(count > 10_000 for count in frozen_when_run)  # the modules, mappers, routes …
