"""What ``serve`` and ``worker`` refuse to start with where the service is shared, and how
``serve`` hands forwarded headers to the app."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import pytest
from typer.testing import CliRunner

from coordinator import cli

SHARED_DATABASE = "postgresql+asyncpg://coordinator@db/coordinator"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments ``uvicorn.run`` was called with, one dict per call; a deployment's
    own secret and no debug, as in production."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setenv("COORDINATOR_SECRET_KEY", "a-secret-of-this-deployment-0123456789")
    monkeypatch.setenv("COORDINATOR_DEBUG", "0")
    monkeypatch.delenv("COORDINATOR_NOTIFY_RECEIPT_TOKEN", raising=False)
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append(options))
    monkeypatch.setattr(cli, "configure_logging", lambda settings: None)
    return calls


@pytest.mark.parametrize(
    ("host", "database", "token", "exit_code"),
    [
        ("0.0.0.0", "sqlite+aiosqlite:///coordinator.db", "", 2),
        ("127.0.0.1", SHARED_DATABASE, "", 2),
        ("127.0.0.1", "sqlite+aiosqlite:///coordinator.db", "", 0),  # a desk: only warned
        ("0.0.0.0", SHARED_DATABASE, "callback-secret", 0),
    ],
    ids=["beyond-loopback", "postgresql", "loopback-sqlite", "with-token"],
)
def test_serve_refuses_an_sms_provider_without_a_callback_token_where_it_is_shared(
    monkeypatch: pytest.MonkeyPatch,
    served: list[dict[str, Any]],
    host: str,
    database: str,
    token: str,
    exit_code: int,
) -> None:
    """Without the token the provider's receipts and replies are refused: they would be lost."""
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", database)
    monkeypatch.setenv("COORDINATOR_SMS_PROVIDER", "aliyun")
    monkeypatch.setenv("COORDINATOR_NOTIFY_RECEIPT_TOKEN", token)

    result = CliRunner().invoke(cli.app, ["serve", "--host", host, "--no-scheduler"])

    assert (result.exit_code, len(served)) == (exit_code, 1 - exit_code // 2), result.output
    assert ("COORDINATOR_NOTIFY_RECEIPT_TOKEN" in result.output) is (token == "")
    if exit_code:
        assert "Refusing to run" in result.output
        assert "拒绝" in result.output


def test_a_worker_on_postgresql_refuses_an_sms_provider_without_a_callback_token(
    monkeypatch: pytest.MonkeyPatch, served: list[dict[str, Any]]
) -> None:
    started: list[bool] = []

    def run(coroutine: Coroutine[Any, Any, Any]) -> None:
        coroutine.close()
        started.append(True)

    monkeypatch.setenv("COORDINATOR_DATABASE_URL", SHARED_DATABASE)
    monkeypatch.setenv("COORDINATOR_SMS_PROVIDER", "tencent")
    monkeypatch.setattr(cli, "run", run)

    result = CliRunner().invoke(cli.app, ["worker"])

    assert (result.exit_code, started) == (2, []), result.output
    assert "COORDINATOR_SMS_PROVIDER=tencent needs COORDINATOR_NOTIFY_RECEIPT_TOKEN" in result.output


def test_serve_leaves_forwarded_headers_to_the_app(served: list[dict[str, Any]]) -> None:
    """uvicorn's own proxy handling believes X-Forwarded-For from any local peer; the app reads
    it only from COORDINATOR_TRUSTED_PROXIES."""
    result = CliRunner().invoke(cli.app, ["serve", "--no-scheduler"])

    assert result.exit_code == 0, result.output
    assert served[0]["proxy_headers"] is False
