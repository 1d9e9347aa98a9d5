"""A volunteer's service record: real-name identity encrypted at rest and answered masked, the
services the statistics count, and the trainings, commendations and evaluations staff add."""

from __future__ import annotations

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select

from coordinator.db import transaction
from coordinator.records.identity import IdCipher, IdKeysMissing, reencrypt_all
from coordinator.records.models import PersonIdentity
from tests.conftest import ID_NUMBER_KEY
from tests.records_helpers import resident_id, set_identity
from tests.stats.scenario import Scenario
from tests.world import World, error_code

ID_NUMBER = resident_id("52260119900101123")


async def test_staff_add_entries_and_a_volunteer_reads_their_whole_record(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    p0, p1 = scenario.history.people[:2]
    await set_identity(client, world.organizer, p0.id, ID_NUMBER, "52260100012345")
    entries = [
        {"kind": "training", "day": "2026-09-01", "title": "应急救护培训", "issuer": "红十字会",
         "training_hours": 4},
        {"kind": "commendation", "day": "2026-11-20", "title": "2026年度优秀志愿者",
         "issuer": "凯里市民政局"},
        {"kind": "evaluation", "day": "2026-11-30", "title": "年度评价", "rating": "优秀",
         "content": "认真负责"},
    ]  # fmt: skip
    for entry in entries:
        added = await client.post(
            f"/api/v1/people/{p0.id}/record-entries", json=entry, headers=world.organizer
        )
        assert added.status_code == 201, added.text
    record = await client.get(f"/api/v1/people/{p0.id}/service-record", headers=scenario.volunteer)
    assert record.status_code == 200, record.text
    body = record.json()
    masked = "*" * 14 + ID_NUMBER[-4:]
    assert body["identity"] == {"id_type": "resident_id", "id_type_label": "居民身份证",
                                "id_number": masked, "volunteer_number": "52260100012345"}  # fmt: skip
    assert body["hours"] == 4.67
    assert [s["activity"] for s in body["services"]] == [e.title for e in scenario.history.events[:3]]
    assert [t["training_hours"] for t in body["trainings"]] == [4.0]
    assert [c["title"] for c in body["commendations"]] == ["2026年度优秀志愿者"]
    assert [(e["rating"], e["content"]) for e in body["evaluations"]] == [("优秀", "认真负责")]
    assert "活动时长为上限" in body["hours_rule"]
    # A volunteer reads only their own, and writes nothing; staff of another station see nothing.
    theirs = await client.get(f"/api/v1/people/{p1.id}/service-record", headers=scenario.volunteer)
    assert theirs.status_code == 404
    own_entry = await client.post(f"/api/v1/people/{p0.id}/record-entries", json=entries[1],
                                  headers=scenario.volunteer)  # fmt: skip
    assert own_entry.status_code == 403
    other = await client.get(f"/api/v1/people/{p0.id}/service-record", headers=world.other_organizer)
    assert other.status_code == 404


async def test_bad_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    p0 = scenario.history.people[0]
    await set_identity(client, world.head, p0.id, ID_NUMBER, None)
    wrong = {"id_type": "resident_id", "id_number": "522601199001011230"}  # check digit wrong
    response = await client.put(f"/api/v1/people/{p0.id}/identity", json=wrong, headers=world.head)
    assert (response.status_code, error_code(response)) == (422, "invalid_id_number")
    passport = {"id_type": "passport", "id_number": "e-12"}
    response = await client.put(f"/api/v1/people/{p0.id}/identity", json=passport, headers=world.head)
    assert (response.status_code, error_code(response)) == (422, "invalid_id_number")
    mixed = {"kind": "commendation", "day": "2026-11-20", "title": "表彰", "rating": "优秀"}
    response = await client.post(f"/api/v1/people/{p0.id}/record-entries", json=mixed, headers=world.head)
    assert response.status_code == 422
    record = (await client.get(f"/api/v1/people/{p0.id}/service-record", headers=world.head)).json()
    assert record["identity"]["id_number"] == "*" * 14 + ID_NUMBER[-4:]
    assert record["commendations"] == []


async def test_id_numbers_are_encrypted_at_rest_and_survive_a_key_rotation(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    p0 = scenario.history.people[0]
    await set_identity(client, world.head, p0.id, ID_NUMBER, None)
    async with transaction(world.sessionmaker) as session:
        stored = await session.scalar(select(PersonIdentity.id_number_encrypted))
    assert stored is not None
    assert ID_NUMBER not in stored
    old = IdCipher([SecretStr(ID_NUMBER_KEY)])
    assert old.decrypt(stored) == ID_NUMBER
    # Rotation: a new key first, the old one after it; re-encrypting leaves only the new one needed.
    new_key = Fernet.generate_key().decode()
    async with transaction(world.sessionmaker) as session:
        assert await reencrypt_all(session, IdCipher([SecretStr(new_key), SecretStr(ID_NUMBER_KEY)])) == 1
    async with transaction(world.sessionmaker) as session:
        rotated = await session.scalar(select(PersonIdentity.id_number_encrypted))
    assert rotated is not None
    assert IdCipher([SecretStr(new_key)]).decrypt(rotated) == ID_NUMBER
    with pytest.raises(IdKeysMissing):
        old.decrypt(rotated)


def test_without_keys_id_numbers_cannot_be_stored() -> None:
    with pytest.raises(IdKeysMissing) as refused:
        IdCipher([]).encrypt(ID_NUMBER)
    assert refused.value.code == "id_keys_missing"
    with pytest.raises(ValueError, match="not a Fernet key"):
        IdCipher([SecretStr("too-short")])
