"""Structured logs: JSON lines with the request's fields, and never a phone or ID number in clear."""

from __future__ import annotations

import io
import logging

import httpx
import structlog
from fastapi import FastAPI

from coordinator.auth.models import Role
from coordinator.clock import FixedClock
from tests.conftest import records
from tests.factories import auth_headers, create_station, create_user


def test_phone_and_id_numbers_are_masked_in_every_field(captured: io.StringIO) -> None:
    structlog.get_logger("coordinator.people").info(
        "resident_imported for 13812341234",
        phone="+8613812341234",
        id_number="522601199001011234",
        row={"note": "家属电话 13987654321", "numbers": [15912345678]},
    )

    [record] = records(captured)
    assert record["event"] == "resident_imported for 138****1234"
    assert record["phone"] == "138****1234"
    assert record["id_number"] == "**************1234"
    assert record["row"] == {"note": "家属电话 139****4321", "numbers": ["159****5678"]}
    assert (record["level"], record["logger"]) == ("info", "coordinator.people")
    assert "13812341234" not in captured.getvalue()
    assert "199001011234" not in captured.getvalue()


def test_standard_library_records_and_tracebacks_are_masked_too(captured: io.StringIO) -> None:
    try:
        raise ValueError("bad phone 13812341234")
    except ValueError:
        logging.getLogger("sqlalchemy.engine").exception("insert failed for %s", "522601199001011234")

    [record] = records(captured)
    assert record["event"] == "insert failed for **************1234"
    assert "ValueError: bad phone 138****1234" in record["exception"]
    assert "13812341234" not in captured.getvalue()


async def test_access_record_has_request_id_route_status_duration_and_user(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock, captured: io.StringIO
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        user = await create_user(session, clock, Role.organizer, [station])
    headers = {**auth_headers(app, user), "X-Request-ID": "trace-1"}

    response = await client.get(f"/api/v1/stations/{station.id}", headers=headers)

    assert response.headers["X-Request-ID"] == "trace-1"
    [access] = [r for r in records(captured) if r["event"] == "http_request"]
    assert access["request_id"] == "trace-1"
    assert (access["method"], access["path"], access["status"]) == (
        "GET",
        f"/api/v1/stations/{station.id}",
        200,
    )
    assert access["route"] == "/api/v1/stations/{station_id}"
    assert access["user_id"] == user.id
    assert access["station_id"] == station.id
    assert access["duration_ms"] >= 0
