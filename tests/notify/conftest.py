"""Fixtures for channel tests: real local servers standing in for the providers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.notify.fake_server import serve
from tests.notify.fake_sms import FakeAliyun, FakeTencent
from tests.notify.fake_wechat import FakeWechat

# Short enough that a deliberately slow answer times out quickly.
READ_TIMEOUT = 0.5


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=READ_TIMEOUT)) as client:
        yield client


@pytest.fixture
async def aliyun() -> AsyncIterator[tuple[FakeAliyun, str]]:
    fake = FakeAliyun()
    async with serve(fake) as url:
        yield fake, url


@pytest.fixture
async def tencent() -> AsyncIterator[tuple[FakeTencent, str]]:
    fake = FakeTencent()
    async with serve(fake) as url:
        yield fake, url


@pytest.fixture
async def wechat() -> AsyncIterator[tuple[FakeWechat, str]]:
    fake = FakeWechat()
    async with serve(fake) as url:
        yield fake, url
