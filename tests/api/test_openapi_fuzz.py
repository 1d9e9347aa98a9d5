"""A bounded schemathesis run over the whole OpenAPI document, as an admin and as an organizer:
whatever a client sends that the document allows (and some it does not), no operation answers a
server error, and every answer matches the schema the document gives for its status.

Requests go through the app in the test's own event loop (``httpx.ASGITransport``), so the
world built before them and the requests share one engine on SQLite and PostgreSQL alike. Half
of the cases use ids that exist in that world; the rest are generated."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import response_schema_conformance

from coordinator.app import create_app
from coordinator.clock import FixedClock
from coordinator.settings import Settings
from tests.world import Headers, World, make_world

EXAMPLES = 3  # per operation and generation mode, each as an admin or an organizer
SEED = 2026
BASE_URL = "http://test"
CHECKS = [not_a_server_error, response_schema_conformance]
# Operations left out, each with why.
EXCLUDED: dict[str, str] = {}


async def _populate(world: World, client: httpx.AsyncClient) -> dict[str, Any]:
    """A station with an organization, people, a resident, an event under way with attendance, one
    ahead and a series: the ids the generated requests reuse."""
    people = await world.people(3)
    resident = await world.resident()
    await world.organization()
    under_way = await world.event(starts_in=timedelta(hours=-1))
    ahead = await world.event()
    await world.sign_up(ahead, people[0])
    roster = await client.post(
        f"/api/v1/events/{under_way.id}/attendance",
        json={"records": [{"person_id": people[1].id, "present": True, "walk_in": True}]},
        headers=world.organizer,
    )
    assert roster.status_code == 200, roster.text
    series = await client.post(
        "/api/v1/series",
        json={
            "station_id": world.station.id,
            "theme": "home_visit",
            "rrule": "FREQ=WEEKLY;BYDAY=SA",
            "starts_on": "2026-12-01",
            "start_time": "09:00",
        },
        headers=world.organizer,
    )
    assert series.status_code == 201, series.text
    return {
        "station_id": world.station.id,
        "event_id": ahead.id,
        "role_id": ahead.roles[0].id,
        "person_id": people[0].id,
        "resident_id": resident.id,
        "attendance_id": roster.json()["items"][0]["id"],
        "series_id": series.json()["id"],
    }


def _httpx_kwargs(transport: dict[str, Any]) -> dict[str, Any]:
    """Schemathesis serializes a case for ``requests``; httpx takes raw bytes as ``content``."""
    kwargs = {k: v for k, v in transport.items() if k not in ("cookies", "auth")}
    if isinstance(kwargs.get("data"), str | bytes):
        kwargs["content"] = kwargs.pop("data")
    if "files" in kwargs:  # httpx sends text or bytes only, where requests also took numbers
        kwargs["files"] = [(name, _part(value)) for name, value in kwargs["files"]]
    return kwargs


def _part(value: Any) -> Any:
    filename, content, *rest = value
    return (filename, content if isinstance(content, str | bytes) else str(content), *rest)


def _describe(failure: Exception) -> str:
    if isinstance(failure, FailureGroup):
        return str(failure)
    return "".join(traceback.format_exception(failure)[-8:])


def _modes(spec: dict[str, Any]) -> list[GenerationMode]:
    """Both, unless nothing can be sent wrong (no body, only parameters taking any text): then
    schemathesis would search for a wrong request in vain."""
    bare = [
        {k: v for k, v in p["schema"].items() if k not in ("title", "description")}
        for p in spec.get("parameters", [])
    ]
    if "requestBody" not in spec and all(schema == {"type": "string"} for schema in bare):
        return [GenerationMode.POSITIVE]
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def _strategy(
    operation: APIOperation[Any, Any, Any, Any], known: dict[str, Any], mode: GenerationMode
) -> Any:
    names = [parameter.name for parameter in operation.path_parameters]
    existing = {name: known[name] for name in names if name in known}
    generated = operation.as_strategy(generation_mode=mode)
    return st.one_of(generated, operation.as_strategy(generation_mode=mode, path_parameters=existing))


def _fuzz(strategy: Any, send: Callable[[dict[str, Any]], httpx.Response], roles: dict[str, Headers]) -> None:
    @seed(SEED)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy, role=st.sampled_from(sorted(roles)))
    def run(case: Any, role: str) -> None:
        response = send(_httpx_kwargs(case.as_transport_kwargs(base_url=BASE_URL, headers=roles[role])))
        case.validate_response(response, checks=CHECKS)

    run()


def test_no_operation_answers_a_server_error_or_off_its_schema(settings: Settings, clock: FixedClock) -> None:
    failures: list[str] = []
    with asyncio.Runner() as runner:
        app = create_app(settings, clock=clock)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
        try:
            world = runner.run(make_world(app, app.state.sessionmaker, clock))
            known = runner.run(_populate(world, client))
            roles = {"admin": world.admin, "organizer": world.organizer}
            document = app.openapi()
            schema = schemathesis.openapi.from_dict(document)

            def send(kwargs: dict[str, Any]) -> httpx.Response:
                response = runner.run(client.request(**kwargs))
                response.request.read()  # a multipart body is streamed; the checks read it again
                return response

            for result in schema.get_all_operations():
                assert isinstance(result, Ok), result  # the document itself is valid
                operation = result.ok()
                if operation.label in EXCLUDED:
                    continue
                spec = document["paths"][operation.path][operation.method.lower()]
                for mode in _modes(spec):
                    try:
                        _fuzz(_strategy(operation, known, mode), send, roles)
                    except Exception as failure:  # a failed check, or an error the app raised
                        failures.append(f"{operation.label} ({mode.value}):\n{_describe(failure)}")
        finally:
            runner.run(client.aclose())
            runner.run(app.state.runtime.aclose())
    assert not failures, "\n\n".join(failures)
