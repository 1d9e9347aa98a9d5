"""Volunteer login by SMS code: hashed codes, 5-minute expiry, limited guesses, rate limits
per phone and per address, one user per person."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from coordinator.auth.models import OtpCode, User
from coordinator.clock import FixedClock
from coordinator.db import transaction
from coordinator.notify.channels import Channel, ConsoleChannel
from coordinator.notify.models import Notification, NotificationStatus
from coordinator.people.models import Person
from coordinator.settings import Settings
from tests.factories import create_person, create_station

pytestmark = pytest.mark.usefixtures("database_url")
REQUEST = "/api/v1/auth/otp/request"
VERIFY = "/api/v1/auth/otp/verify"


@pytest.fixture
def console() -> ConsoleChannel:
    return ConsoleChannel()


@pytest.fixture
def channels(console: ConsoleChannel) -> dict[str, Channel]:
    """The app sends its SMS through ``console``, which keeps the codes for the tests to read."""
    return {"sms": console, "console": console}


@pytest.fixture
async def volunteer(app: FastAPI, clock: FixedClock) -> Person:
    async with transaction(app.state.sessionmaker) as session:
        station = await create_station(session, clock)
        return await create_person(session, clock, station, phone="+8613812345678")


def code_sent_to(console: ConsoleChannel, phone: str) -> str:
    message = console.last_for(phone)
    assert message is not None, "no code was sent"
    return message.params["code"]


async def test_a_volunteer_logs_in_with_the_code_sent_by_sms(
    app: FastAPI, client: httpx.AsyncClient, console: ConsoleChannel, volunteer: Person
) -> None:
    asked = await client.post(REQUEST, json={"phone": "138 1234 5678"})
    assert asked.status_code == 202
    assert asked.json() == {"sent": True, "expires_in": 300}
    code = code_sent_to(console, volunteer.phone)
    assert len(code) == 6
    assert code in console.messages[-1].text

    answer = await client.post(VERIFY, json={"phone": "13812345678", "code": code})
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert (me.json()["role"], me.json()["person_id"]) == ("volunteer", volunteer.id)

    async with app.state.sessionmaker() as session:
        [otp] = await session.scalars(select(OtpCode))
        [row] = await session.scalars(select(Notification))
    assert code not in otp.code_hash
    assert otp.consumed_at is not None
    # The notification shows the message was sent, but not the code.
    assert (row.reason, row.status) == ("otp", NotificationStatus.sent)
    assert code not in str(row.payload)
    assert row.payload["params"]["code"] == "******"


async def test_logging_in_again_uses_the_same_account(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock, console: ConsoleChannel, volunteer: Person
) -> None:
    for _ in range(2):
        await client.post(REQUEST, json={"phone": volunteer.phone})
        answer = await client.post(
            VERIFY, json={"phone": volunteer.phone, "code": code_sent_to(console, volunteer.phone)}
        )
        assert answer.status_code == 200
        clock.set(clock.now() + timedelta(minutes=2))
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_an_unknown_phone_gets_the_same_answer_and_no_sms(
    client: httpx.AsyncClient, console: ConsoleChannel
) -> None:
    asked = await client.post(REQUEST, json={"phone": "13900001111"})
    assert asked.status_code == 202
    assert asked.json() == {"sent": True, "expires_in": 300}
    assert console.messages == []
    answer = await client.post(VERIFY, json={"phone": "13900001111", "code": "123456"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "otp_invalid"


async def test_wrong_guesses_are_limited_then_the_code_is_burnt(
    client: httpx.AsyncClient, console: ConsoleChannel, volunteer: Person
) -> None:
    await client.post(REQUEST, json={"phone": volunteer.phone})
    code = code_sent_to(console, volunteer.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    statuses = [
        (await client.post(VERIFY, json={"phone": volunteer.phone, "code": wrong})).status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]
    late = await client.post(VERIFY, json={"phone": volunteer.phone, "code": code})
    assert late.status_code == 401


async def test_a_code_expires_after_five_minutes(
    client: httpx.AsyncClient, clock: FixedClock, console: ConsoleChannel, volunteer: Person
) -> None:
    await client.post(REQUEST, json={"phone": volunteer.phone})
    code = code_sent_to(console, volunteer.phone)
    clock.set(clock.now() + timedelta(minutes=5))
    answer = await client.post(VERIFY, json={"phone": volunteer.phone, "code": code})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "otp_invalid"


async def test_a_new_code_replaces_the_previous_one(
    client: httpx.AsyncClient, clock: FixedClock, console: ConsoleChannel, volunteer: Person
) -> None:
    await client.post(REQUEST, json={"phone": volunteer.phone})
    first = code_sent_to(console, volunteer.phone)
    clock.set(clock.now() + timedelta(minutes=1, seconds=1))
    await client.post(REQUEST, json={"phone": volunteer.phone})
    second = code_sent_to(console, volunteer.phone)
    if first != second:
        assert (await client.post(VERIFY, json={"phone": volunteer.phone, "code": first})).status_code == 401
    assert (await client.post(VERIFY, json={"phone": volunteer.phone, "code": second})).status_code == 200


async def test_requests_are_rate_limited_per_phone(
    client: httpx.AsyncClient, clock: FixedClock, console: ConsoleChannel, volunteer: Person
) -> None:
    assert (await client.post(REQUEST, json={"phone": volunteer.phone})).status_code == 202
    again = await client.post(REQUEST, json={"phone": volunteer.phone})
    assert again.status_code == 429
    assert again.json()["error"]["details"] == {"retry_after": 60}
    assert again.headers["retry-after"] == "60"
    statuses = []
    for _ in range(5):
        clock.set(clock.now() + timedelta(minutes=1, seconds=1))
        statuses.append((await client.post(REQUEST, json={"phone": volunteer.phone})).status_code)
    assert statuses == [202, 202, 202, 202, 429]  # five an hour
    assert len(console.messages) == 5


async def test_requests_are_rate_limited_per_address(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, console: ConsoleChannel
) -> None:
    app.state.settings = settings.model_copy(update={"otp_per_ip_per_hour": 3})
    statuses = [(await client.post(REQUEST, json={"phone": f"1390000{n:04d}"})).status_code for n in range(4)]
    assert statuses == [202, 202, 202, 429]


async def test_concurrent_requests_for_one_phone_send_one_code(
    app: FastAPI, console: ConsoleChannel, volunteer: Person
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answers = await asyncio.gather(
            *(http.post(REQUEST, json={"phone": volunteer.phone}) for _ in range(6))
        )
    assert sorted(a.status_code for a in answers) == [202, 429, 429, 429, 429, 429]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OtpCode)) == 1
    assert len(console.messages) == 1


async def test_a_bad_phone_is_refused_and_nothing_stored(
    app: FastAPI, client: httpx.AsyncClient, console: ConsoleChannel
) -> None:
    answer = await client.post(REQUEST, json={"phone": "12345"})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_phone"
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OtpCode)) == 0
