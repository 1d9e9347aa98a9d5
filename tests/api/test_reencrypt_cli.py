"""``coordinator admin reencrypt-ids``: after a key rotation every ID number needs only the new key."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from coordinator.cli import app as cli
from coordinator.clock import FixedClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.records.identity import IdCipher, IdKeysMissing, seal
from coordinator.records.models import IdType, PersonIdentity
from tests.conftest import ID_NUMBER_KEY, START
from tests.factories import create_person, create_station
from tests.records_helpers import resident_id

runner = CliRunner()
ID_NUMBER = resident_id("52260119900101123")


async def _store_identity(url: str, cipher: IdCipher) -> None:
    engine = create_engine(url)
    clock = FixedClock(START)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            person = await create_person(session, clock, await create_station(session, clock))
            identity = PersonIdentity(person_id=person.id, updated_at=clock.now())
            seal(identity, cipher, IdType.resident_id, ID_NUMBER)
            session.add(identity)
    finally:
        await engine.dispose()


async def _stored(url: str) -> str:
    engine = create_engine(url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            token: str | None = await session.scalar(select(PersonIdentity.id_number_encrypted))
    finally:
        await engine.dispose()
    assert token is not None
    return token


def test_reencrypting_moves_every_number_to_the_first_key(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = IdCipher([SecretStr(ID_NUMBER_KEY)])
    asyncio.run(_store_identity(database_url, old))
    new_key = Fernet.generate_key().decode()
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("COORDINATOR_ID_NUMBER_KEYS", f"{new_key},{ID_NUMBER_KEY}")

    result = runner.invoke(cli, ["admin", "reencrypt-ids"])

    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 ID numbers" in result.output
    token = asyncio.run(_stored(database_url))
    assert IdCipher([SecretStr(new_key)]).decrypt(token) == ID_NUMBER
    with pytest.raises(IdKeysMissing):
        old.decrypt(token)


def test_without_keys_the_command_says_what_to_set(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(_store_identity(database_url, IdCipher([SecretStr(ID_NUMBER_KEY)])))
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("COORDINATOR_ID_NUMBER_KEYS", "")

    result = runner.invoke(cli, ["admin", "reencrypt-ids"])

    assert result.exit_code == 1
    assert "COORDINATOR_ID_NUMBER_KEYS" in result.output
