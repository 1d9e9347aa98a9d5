"""The WeChat access token, cached in one database row that every process shares.

``cgi-bin/stable_token`` returns the same token while it is valid, but each process fetching its
own copy would still spend the daily quota and race on expiry. So the row is read without a lock
while valid, and a refresh happens under the row's lock: whoever waits for the lock finds the
new token there and does not fetch again. (PostgreSQL: ``SELECT … FOR UPDATE``; SQLite starts
every transaction with ``BEGIN IMMEDIATE``, which serializes the refreshes the same way.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import Clock
from coordinator.db import transaction
from coordinator.notify.channels.base import DEFAULT_RETRY_AFTER, SendResult
from coordinator.notify.models import ChannelToken

# Refresh a little early so a token never expires between reading it and using it.
EXPIRY_MARGIN = timedelta(minutes=5)
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)
# -1: WeChat is busy; 45009: the daily quota of token calls is spent.
_RETRYABLE_TOKEN_ERRCODES = frozenset({-1, 45009})


class TokenUnavailable(Exception):
    """No token could be had; ``result`` says whether to retry or give up on this channel."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.error_code)
        self.result = result


class WechatTokenStore:
    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        app_id: str,
        app_secret: SecretStr,
        base_url: str = "https://api.weixin.qq.com",
    ) -> None:
        self._http = http
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._app_id = app_id
        self._app_secret = app_secret
        self._base_url = base_url.rstrip("/")
        self.provider = f"wechat:{app_id}"

    async def get(self) -> str:
        token = await self._read_valid()
        return token if token is not None else await self.refresh()

    async def refresh(self, *, rejected: str | None = None) -> str:
        """Fetch a new token, unless another process stored one (not ``rejected``) meanwhile."""
        async with transaction(self._sessionmaker) as session:
            row = await self._lock_row(session)
            if row.token and row.token != rejected and self._is_valid(row):
                return row.token
            token, expires_in = await self._fetch()
            now = self._clock.now()
            row.token = token
            row.expires_at = now + timedelta(seconds=expires_in)
            row.updated_at = now
        return token

    def _is_valid(self, row: ChannelToken) -> bool:
        return row.expires_at > self._clock.now() + EXPIRY_MARGIN

    async def _read_valid(self) -> str | None:
        async with self._sessionmaker() as session:
            row = await session.get(ChannelToken, self.provider)
            if row is not None and row.token and self._is_valid(row):
                return row.token
        return None

    async def _lock_row(self, session: AsyncSession) -> ChannelToken:
        # The row must exist before it can be locked; concurrent inserts of it are no-ops.
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        await session.execute(
            insert(ChannelToken)
            .values(provider=self.provider, token="", expires_at=_NEVER, updated_at=self._clock.now())
            .on_conflict_do_nothing(index_elements=["provider"])
        )
        row = await session.scalar(
            select(ChannelToken).where(ChannelToken.provider == self.provider).with_for_update()
        )
        assert row is not None
        return row

    async def _fetch(self) -> tuple[str, int]:
        # force_refresh stays off: it is limited per day and invalidates the token others hold;
        # a normal call already returns a fresh token once the old one is no longer valid.
        body = {
            "grant_type": "client_credential",
            "appid": self._app_id,
            "secret": self._app_secret.get_secret_value(),
            "force_refresh": False,
        }
        try:
            response = await self._http.post(f"{self._base_url}/cgi-bin/stable_token", json=body)
            answer: Any = response.json()
        except (httpx.TransportError, ValueError) as exc:
            # Fetching a token sends no message, so any failure here is safe to retry.
            raise _retryable("token_unavailable", type(exc).__name__) from exc
        if not isinstance(answer, dict):
            raise _retryable("token_unavailable", f"HTTP {response.status_code}")
        if answer.get("access_token"):
            return str(answer["access_token"]), int(answer.get("expires_in", 7200))
        errcode = int(answer.get("errcode", -1))
        message = f"stable_token errcode {errcode}: {answer.get('errmsg', '')}"
        if errcode in _RETRYABLE_TOKEN_ERRCODES or response.status_code >= 500:
            raise _retryable("token_unavailable", message)
        # Wrong app id or secret, IP not whitelisted: nothing will get through until fixed.
        raise TokenUnavailable(SendResult.permanent("token_rejected", message))


def _retryable(code: str, message: str) -> TokenUnavailable:
    return TokenUnavailable(SendResult.throttled(code, message, retry_after=DEFAULT_RETRY_AFTER))
