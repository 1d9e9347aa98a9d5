"""Which address the per-address limits count: the peer's own, unless the peer is a trusted proxy
(``COORDINATOR_TRUSTED_PROXIES``) forwarding the client's in X-Forwarded-For."""

from __future__ import annotations

import itertools

import httpx
import pytest
from fastapi import FastAPI

from coordinator.app import create_app
from coordinator.clock import FixedClock
from coordinator.settings import Settings

pytestmark = pytest.mark.usefixtures("database_url")
REQUEST = "/api/v1/auth/otp/request"
_phones = (f"1381234{n:04d}" for n in itertools.count())


async def _ask_codes(app: FastAPI, *, peer: str, forwarded_for: list[str]) -> list[int]:
    """One code request per forwarded address, each for a phone of its own, from ``peer``."""
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return [
            (
                await http.post(REQUEST, json={"phone": next(_phones)}, headers={"X-Forwarded-For": address})
            ).status_code
            for address in forwarded_for
        ]


async def test_an_untrusted_peer_cannot_choose_the_address_it_is_counted_under(
    app: FastAPI, settings: Settings
) -> None:
    app.state.settings = settings.model_copy(update={"otp_per_ip_per_hour": 2})
    rotating = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
    assert await _ask_codes(app, peer="127.0.0.1", forwarded_for=rotating) == [202, 202, 429]


async def test_a_trusted_proxy_forwards_the_client_address(settings: Settings, clock: FixedClock) -> None:
    configured = settings.model_copy(update={"otp_per_ip_per_hour": 2, "trusted_proxies": ["10.0.0.0/8"]})
    app = create_app(configured, clock=clock)
    try:
        clients = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        assert await _ask_codes(app, peer="10.0.0.7", forwarded_for=clients) == [202, 202, 202]
        one_client = ["198.51.100.9"] * 3
        assert await _ask_codes(app, peer="10.0.0.7", forwarded_for=one_client) == [202, 202, 429]
        # Not from the proxy: the forwarded address is ignored and the peer's own is counted.
        assert await _ask_codes(app, peer="192.0.2.50", forwarded_for=clients) == [202, 202, 429]
    finally:
        await app.state.runtime.aclose()


def test_a_trusted_proxy_that_is_not_an_address_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="not-a-network"):
        Settings(trusted_proxies="127.0.0.1, not-a-network")
