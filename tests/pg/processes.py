"""Real ``coordinator serve`` / ``coordinator worker`` processes for multi-process tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from tests.conftest import RECEIPT_TOKEN, TEST_SECRET
from tests.notify.fake_server import unused_port
from tests.pg.gateway import ACCESS_KEY_ID, ACCESS_KEY_SECRET

COORDINATOR = str(Path(sys.executable).parent / "coordinator")
TEMPLATE_CODES = {
    "reminder": "SMS_900001",
    "reminder_confirm": "SMS_900002",
    "changed": "SMS_900003",
    "cancelled": "SMS_900004",
    "promoted": "SMS_900005",
    "invited": "SMS_900006",
    "released": "SMS_900007",
    "otp": "SMS_900008",
}


def environment(database_url: str, gateway_url: str, **overrides: str) -> dict[str, str]:
    """The settings of every process: PostgreSQL, Aliyun SMS at the fake gateway, fast ticks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COORDINATOR_")}
    env.update(
        {
            "COORDINATOR_DATABASE_URL": database_url,
            "COORDINATOR_SECRET_KEY": TEST_SECRET,
            "COORDINATOR_NOTIFY_RECEIPT_TOKEN": RECEIPT_TOKEN,
            "COORDINATOR_LOG_JSON": "true",
            "COORDINATOR_LOG_LEVEL": "ERROR",
            "COORDINATOR_SMS_PROVIDER": "aliyun",
            "COORDINATOR_ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "COORDINATOR_ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
            "COORDINATOR_ALIYUN_SMS_SIGN_NAME": "凯里社工站",
            "COORDINATOR_ALIYUN_SMS_ENDPOINT": gateway_url,
            "COORDINATOR_ALIYUN_SMS_TEMPLATE_CODES": json.dumps(TEMPLATE_CODES),
            "COORDINATOR_RELAY_INTERVAL_SECONDS": "0.2",
            "COORDINATOR_NOTIFY_INTERVAL_SECONDS": "0.2",
            **{f"COORDINATOR_{k.upper()}": v for k, v in overrides.items()},
        }
    )
    return env


class Processes:
    """Starts processes, keeps their output in files, and stops (or kills) them."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs, self.env = logs, env
        self.running: list[subprocess.Popen[bytes]] = []
        self._files: list[IO[bytes]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        self._files.append(log)
        process = subprocess.Popen(
            [COORDINATOR, *args], env=self.env, cwd=self.logs, stdout=log, stderr=subprocess.STDOUT
        )
        self.running.append(process)
        return process

    def api(self, name: str) -> str:
        port = unused_port()
        self.start(name, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler")
        return f"http://127.0.0.1:{port}"

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        return self.start(name, "worker")

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self._files:
            log.close()

    def output(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-4000:]


@contextmanager
def processes(logs: Path, env: dict[str, str]) -> Iterator[Processes]:
    group = Processes(logs, env)
    try:
        yield group
    finally:
        group.stop_all()


async def wait_ready(base_url: str, within: float = 30.0) -> None:
    async with httpx.AsyncClient(timeout=2.0) as http:
        async with asyncio.timeout(within):
            while True:
                try:
                    if (await http.get(f"{base_url}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)


async def wait_for(condition: Callable[[], Awaitable[bool]], *, within: float, interval: float = 0.1) -> None:
    """Poll ``condition`` until it answers true; ``TimeoutError`` after ``within`` seconds.
    (The state lives in other processes and the database: there is no event to wait on.)"""
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(interval)
