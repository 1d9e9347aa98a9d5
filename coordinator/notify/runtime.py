"""The channels of this process: built once, on first use, with one shared HTTP client.

The dispatcher tick only receives ``sessionmaker``, ``clock`` and ``settings``; this holder gives
it the same channel instances (and connection pools) on every tick. ``aclose`` runs on shutdown
(the application lifespan, the worker). Tests ``install`` channels of their own.
"""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import Clock
from coordinator.notify.channels import Channel, build_channels
from coordinator.settings import Settings

# Bounds each provider call; the dispatcher also bounds the whole send.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class ChannelHolder:
    def __init__(self) -> None:
        self._channels: dict[str, Channel] | None = None
        self._http: httpx.AsyncClient | None = None

    def get(
        self, *, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
    ) -> dict[str, Channel]:
        if self._channels is None:
            self._http = httpx.AsyncClient(
                timeout=HTTP_TIMEOUT, limits=httpx.Limits(max_connections=settings.notify_send_concurrency)
            )
            self._channels = build_channels(settings, self._http, sessionmaker, clock=clock)
        return self._channels

    def install(self, channels: dict[str, Channel] | None) -> None:
        """Use ``channels`` from now on (None: build from settings again on next use)."""
        self._channels = channels

    async def aclose(self) -> None:
        channels, http = self._channels, self._http
        self._channels, self._http = None, None
        for channel in set(channels.values()) if channels else set():
            await channel.aclose()
        if http is not None:
            await http.aclose()


channel_holder = ChannelHolder()
