"""``DELETE /events/{id}/roles/{role_id}``: a role nobody holds or waits for leaves the event; its
ended sign-ups stay as history; a sign-up racing the removal either lands (and the removal is
refused) or is refused as an unknown role."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import FixedClock
from coordinator.errors import CoordinatorError
from coordinator.events import roles
from coordinator.events.models import Event, EventRole, EventStatus, Signup, SignupSource, SignupStatus
from coordinator.events.service import load_event
from coordinator.events.signups import service as signups
from coordinator.people.models import Person
from tests.api.event_making import event_body
from tests.factories import create_event, create_person, create_signup, sign_up
from tests.stored import domain_events
from tests.world import World, error_code


def _path(event_id: int, role_id: int) -> str:
    return f"/api/v1/events/{event_id}/roles/{role_id}"


async def _two_roles(world: World, **fields: Any) -> Event:
    """A published event a week ahead with roles 志愿者 (3 places) and 摄影 (2 places)."""
    return await world.event(roles=[{"name": "志愿者", "count": 3}, {"name": "摄影", "count": 2}], **fields)


async def _stored_roles(sessionmaker: async_sessionmaker[AsyncSession], event_id: int) -> list[EventRole]:
    """Every role row of the event, removed ones included."""
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(EventRole).where(EventRole.event_id == event_id).order_by(EventRole.id)
        )
        return list(rows)


# --- removing -----------------------------------------------------------------------------------------


async def test_removing_a_role_takes_it_off_the_event_and_the_capacity_follows(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    created = (await client.post("/api/v1/events", json=event_body(world), headers=world.organizer)).json()
    path = f"/api/v1/events/{created['id']}"
    kept, removed = created["roles"][:-1], created["roles"][-1]
    clock.set(clock.now() + timedelta(hours=1))

    response = await client.delete(_path(created["id"], removed["id"]), headers=world.organizer)

    assert response.status_code == 204, response.text
    assert response.content == b""
    body = (await client.get(path, headers=world.organizer)).json()
    assert [r["id"] for r in body["roles"]] == [r["id"] for r in kept]
    assert body["capacity"] == created["capacity"] - removed["count"] == sum(r["count"] for r in kept)
    assert body["sequence"] == created["sequence"]  # roles are in nobody's calendar
    assert body["updated_at"] == "2026-11-29T11:00:00+08:00"
    [updated] = await domain_events(sessionmaker, "EventUpdated")
    assert updated.aggregate_id == created["id"]
    assert updated.payload["changed"] == ["capacity", "roles"]
    assert updated.payload["event_id"] == created["id"]
    listed = (await client.get("/api/v1/events", headers=world.organizer)).json()["items"]
    assert [r["id"] for r in listed[0]["roles"]] == [r["id"] for r in kept]


async def test_a_capacity_set_apart_from_the_counts_stays(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await _two_roles(world, capacity=9)
    response = await client.delete(_path(event.id, event.roles[1].id), headers=world.organizer)
    assert response.status_code == 204, response.text
    body = (await client.get(f"/api/v1/events/{event.id}", headers=world.organizer)).json()
    assert (body["capacity"], [r["name"] for r in body["roles"]]) == (9, ["志愿者"])
    [updated] = await domain_events(sessionmaker, "EventUpdated")
    assert updated.payload["changed"] == ["roles"]


async def test_removing_an_occurrence_role_detaches_it_from_its_series(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """As any edit of one occurrence: later edits of the series leave it alone."""
    series = (
        await client.post(
            "/api/v1/series",
            json={
                "station_id": world.station.id,
                "theme": "birthday_party",
                "rrule": "FREQ=MONTHLY;BYDAY=2SA",
                "starts_on": "2026-12-01",
                "start_time": "14:00",
                "publish": True,
            },
            headers=world.organizer,
        )
    ).json()
    events = (
        await client.get(f"/api/v1/events?station_id={world.station.id}", headers=world.organizer)
    ).json()["items"]
    occurrence = next(e for e in events if e["series_id"] == series["id"])
    response = await client.delete(
        _path(occurrence["id"], occurrence["roles"][-1]["id"]), headers=world.organizer
    )
    assert response.status_code == 204, response.text
    body = (await client.get(f"/api/v1/events/{occurrence['id']}", headers=world.organizer)).json()
    assert body["detached"] is True


async def test_ended_sign_ups_of_a_removed_role_stay_as_history(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Cancelled and declined sign-ups keep their role (a removed role's row is kept, marked), the
    sign-up list still names it, and its name may be used again by a new role."""
    person = await world.person(name="杨秀英")
    async with sessionmaker() as session, session.begin():
        event = await create_event(
            session,
            clock,
            world.station,
            roles=[{"name": "志愿者", "count": 3}, {"name": "摄影", "count": 2}],
        )
        other = await create_person(session, clock, world.station)
        photographer = event.roles[1]
        await create_signup(session, clock, event, person, role=photographer, status=SignupStatus.cancelled)
        await create_signup(session, clock, event, other, role=photographer, status=SignupStatus.declined)
    response = await client.delete(_path(event.id, photographer.id), headers=world.organizer)
    assert response.status_code == 204, response.text

    stored = await _stored_roles(sessionmaker, event.id)
    assert [(r.name, r.removed_at is not None) for r in stored] == [("志愿者", False), ("摄影", True)]
    listed = (await client.get(f"/api/v1/events/{event.id}/signups", headers=world.organizer)).json()
    assert sorted((s["role_name"], s["status"]) for s in listed["items"]) == [
        ("摄影", "cancelled"),
        ("摄影", "declined"),
    ]
    # Gone from every way in: the role's own routes, PATCH by id, a second removal.
    again = await client.delete(_path(event.id, photographer.id), headers=world.organizer)
    assert (again.status_code, error_code(again)) == (404, "role_not_found")
    count = await client.patch(_path(event.id, photographer.id), json={"count": 4}, headers=world.organizer)
    assert (count.status_code, error_code(count)) == (404, "role_not_found")
    by_id = await client.patch(
        f"/api/v1/events/{event.id}",
        json={"roles": [{"id": photographer.id, "name": "摄影", "count": 1}]},
        headers=world.organizer,
    )
    assert (by_id.status_code, error_code(by_id)) == (422, "unknown_role")
    # The name is free for a new role, after the current ones.
    added = await client.patch(
        f"/api/v1/events/{event.id}", json={"roles": [{"name": "摄影", "count": 1}]}, headers=world.organizer
    )
    assert added.status_code == 200, added.text
    assert [(r["name"], r["count"]) for r in added.json()["roles"]] == [("志愿者", 3), ("摄影", 1)]
    assert added.json()["roles"][1]["id"] != photographer.id


async def test_nobody_can_sign_up_or_be_invited_into_a_removed_role(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await world.person(name="杨秀英")
    event = await _two_roles(world)
    photographer = event.roles[1]
    assert (await client.delete(_path(event.id, photographer.id), headers=world.organizer)).status_code == 204
    signups_path = f"/api/v1/events/{event.id}/signups"
    for role in (photographer.id, "摄影"):
        refused = await client.post(
            signups_path, json={"person_id": person.id, "role": role}, headers=world.organizer
        )
        assert (refused.status_code, error_code(refused)) == (422, "unknown_role"), role
    invited = await client.post(
        f"/api/v1/events/{event.id}/invitations",
        json={"person_id": person.id, "role": photographer.id},
        headers=world.organizer,
    )
    assert (invited.status_code, error_code(invited)) == (422, "unknown_role")
    # One role is left: a sign-up that names none takes it.
    placed = await client.post(signups_path, json={"person_id": person.id}, headers=world.organizer)
    assert placed.status_code == 201, placed.text
    assert placed.json()["role_id"] == event.roles[0].id


async def test_a_sign_up_that_read_the_roles_before_the_removal_is_refused_as_unknown_role(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The removal lands between a sign-up's unlocked read of the roles and its claim of the
    role's lock: the claim matches no current role and says so (not a 500)."""
    person = await world.person(name="杨秀英")
    event = await _two_roles(world)
    photographer = event.roles[1]
    async with sessionmaker() as session:
        stale, zone = await load_event(session, event.id)
    assert (await client.delete(_path(event.id, photographer.id), headers=world.organizer)).status_code == 204
    with pytest.raises(CoordinatorError) as refused:
        async with sessionmaker() as session, session.begin():
            await signups.sign_up(
                session,
                clock,
                stale,
                zone,
                person_id=person.id,
                role_id=photographer.id,
                source=SignupSource.organizer,
            )
    assert (refused.value.status_code, refused.value.code) == (422, "unknown_role")
    async with sessionmaker() as session:
        assert list(await session.scalars(select(Signup))) == []


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (SignupStatus.confirmed, {"confirmed": 1, "invited": 0, "waitlisted": 0}),
        (SignupStatus.invited, {"confirmed": 0, "invited": 1, "waitlisted": 0}),
        (SignupStatus.waitlisted, {"confirmed": 0, "invited": 0, "waitlisted": 1}),
    ],
)
async def test_a_role_someone_holds_or_waits_for_is_not_removed(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
    status: SignupStatus,
    expected: dict[str, int],
) -> None:
    yang = await world.person(name="杨秀英")
    event = await _two_roles(world)
    photographer = event.roles[1]
    async with sessionmaker() as session, session.begin():
        await create_signup(
            session,
            clock,
            event,
            yang,
            role=photographer,
            status=status,
            waitlist_seq=1 if status is SignupStatus.waitlisted else None,
        )
    refused = await client.delete(_path(event.id, photographer.id), headers=world.organizer)
    assert (refused.status_code, error_code(refused)) == (409, "role_has_signups")
    error = refused.json()["error"]
    assert error["details"] == {"role_id": photographer.id, **expected}
    assert "摄影" in error["message"]
    assert "取消" in error["message"]
    assert f"{sum(expected.values())} {status.value}" in error["message_en"]
    assert [r.removed_at for r in await _stored_roles(sessionmaker, event.id)] == [None, None]
    assert await domain_events(sessionmaker, "EventUpdated") == []
    # Once the person is moved out (here: cancelled), the role can go.
    cancelled = await client.delete(f"/api/v1/events/{event.id}/signups/{yang.id}", headers=world.organizer)
    assert cancelled.status_code == 204, cancelled.text
    assert (await client.delete(_path(event.id, photographer.id), headers=world.organizer)).status_code == 204


async def test_the_counts_of_every_kind_are_named(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await _two_roles(world)
    photographer = event.roles[1]
    async with sessionmaker() as session, session.begin():
        people = [await create_person(session, clock, world.station) for _ in range(6)]
        kinds = [SignupStatus.confirmed] * 2 + [SignupStatus.invited] + [SignupStatus.waitlisted] * 3
        for seq, (person, kind) in enumerate(zip(people, kinds, strict=True), start=1):
            waitlist_seq = seq if kind is SignupStatus.waitlisted else None
            await create_signup(
                session, clock, event, person, role=photographer, status=kind, waitlist_seq=waitlist_seq
            )
    refused = await client.delete(_path(event.id, photographer.id), headers=world.organizer)
    error = refused.json()["error"]
    assert (refused.status_code, error["details"]) == (
        409,
        {"role_id": photographer.id, "confirmed": 2, "invited": 1, "waitlisted": 3},
    )
    assert error["message_en"].startswith("Role '摄影' still has 2 confirmed, 1 invited and 3 waitlisted")


async def test_the_last_role_is_not_removed(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await _two_roles(world)
    assert (
        await client.delete(_path(event.id, event.roles[1].id), headers=world.organizer)
    ).status_code == 204
    refused = await client.delete(_path(event.id, event.roles[0].id), headers=world.organizer)
    assert (refused.status_code, error_code(refused)) == (409, "last_role")
    assert "至少" in refused.json()["error"]["message"]
    assert [r.removed_at is None for r in await _stored_roles(sessionmaker, event.id)] == [True, False]


async def test_an_unknown_role_or_a_role_of_another_event_is_404(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await _two_roles(world)
    other = await _two_roles(world)
    for role_id in (other.roles[1].id, 987654):
        refused = await client.delete(_path(event.id, role_id), headers=world.organizer)
        assert (refused.status_code, error_code(refused)) == (404, "role_not_found"), role_id
    missing_event = await client.delete(_path(987654, event.roles[1].id), headers=world.organizer)
    assert (missing_event.status_code, error_code(missing_event)) == (404, "event_not_found")
    assert all(r.removed_at is None for r in await _stored_roles(sessionmaker, other.id))


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"status": EventStatus.cancelled}, "event_cancelled"),
        ({"status": EventStatus.completed, "starts_in": timedelta(days=-2)}, "event_completed"),
        ({"starts_in": timedelta(hours=-1)}, "event_in_past"),  # started, still published
        ({"status": EventStatus.draft, "starts_in": timedelta(days=-1)}, "event_in_past"),
    ],
)
async def test_a_finished_cancelled_or_started_event_keeps_its_roles(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
    fields: dict[str, Any],
    code: str,
) -> None:
    event = await _two_roles(world, **fields)
    refused = await client.delete(_path(event.id, event.roles[1].id), headers=world.organizer)
    assert (refused.status_code, error_code(refused)) == (409, code)
    assert all(r.removed_at is None for r in await _stored_roles(sessionmaker, event.id))


async def test_a_draft_loses_a_role_like_a_published_event(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await _two_roles(world, status=EventStatus.draft)
    assert (
        await client.delete(_path(event.id, event.roles[0].id), headers=world.organizer)
    ).status_code == 204
    body = (await client.get(f"/api/v1/events/{event.id}", headers=world.organizer)).json()
    assert ([r["name"] for r in body["roles"]], body["capacity"]) == (["摄影"], 2)


# --- permission -------------------------------------------------------------------------------------


async def test_only_staff_of_the_events_station_remove_roles(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await _two_roles(world)
    path = _path(event.id, event.roles[1].id)
    volunteer = await client.delete(path, headers=world.volunteer)
    assert (volunteer.status_code, error_code(volunteer)) == (403, "role_forbidden")
    stranger = await client.delete(path, headers=world.other_organizer)
    assert (stranger.status_code, error_code(stranger)) == (404, "event_not_found")
    anonymous = await client.delete(path)
    assert anonymous.status_code == 401
    assert all(r.removed_at is None for r in await _stored_roles(sessionmaker, event.id))
    assert (await client.delete(path, headers=world.admin)).status_code == 204


async def test_the_route_is_documented_like_its_neighbours(client: httpx.AsyncClient) -> None:
    route = (await client.get("/openapi.json")).json()["paths"]["/api/v1/events/{event_id}/roles/{role_id}"]
    operation = route["delete"]
    assert operation["summary"].startswith("Remove a role")
    assert operation["tags"] == route["patch"]["tags"] == ["events"]
    assert {"204", "401", "403", "404", "409"} <= set(operation["responses"])


# --- concurrency ----------------------------------------------------------------------------------


async def _blocked(task: asyncio.Task[httpx.Response]) -> bool:
    """Whether ``task`` is still waiting (for a lock another transaction holds) after a while."""
    await asyncio.sleep(0.5)
    return not task.done()


async def test_a_removal_waits_for_a_sign_up_holding_the_role_and_is_refused(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The sign-up holds the role's lock until it commits; the removal counts after it."""
    person = await world.person(name="杨秀英")
    event = await _two_roles(world)
    photographer = event.roles[1]
    async with sessionmaker() as session, session.begin():
        await sign_up(session, clock, event_id=event.id, person_id=person.id, role_id=photographer.id)
        removal = asyncio.create_task(
            client.delete(_path(event.id, photographer.id), headers=world.organizer)
        )
        assert await _blocked(removal)
    refused = await removal
    assert (refused.status_code, error_code(refused)) == (409, "role_has_signups")
    assert refused.json()["error"]["details"]["confirmed"] == 1
    assert [r.removed_at for r in await _stored_roles(sessionmaker, event.id)] == [None, None]


async def test_a_sign_up_waiting_for_a_removal_is_refused_as_unknown_role(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The removal holds the role's lock until it commits; the sign-up's claim then matches no
    current role (PostgreSQL re-checks the claim's WHERE on the row the removal left)."""
    person = await world.person(name="杨秀英")
    event = await _two_roles(world)
    photographer = event.roles[1]
    async with sessionmaker() as session, session.begin():
        locked, _ = await load_event(session, event.id, for_update=True)
        await roles.remove_role(session, clock, event=locked, role_id=photographer.id)
        signup = asyncio.create_task(
            client.post(
                f"/api/v1/events/{event.id}/signups",
                json={"person_id": person.id, "role": photographer.id},
                headers=world.organizer,
            )
        )
        assert await _blocked(signup)
    refused = await signup
    assert (refused.status_code, error_code(refused)) == (422, "unknown_role")
    async with sessionmaker() as session:
        assert list(await session.scalars(select(Signup))) == []


async def test_sign_ups_racing_removals_either_land_or_find_the_role_gone(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Whatever the interleaving: the sign-up lands and the removal is refused, or the removal
    wins and the sign-up gets unknown_role. Never both, never a 500."""
    events: list[Event] = []
    people: list[Person] = []
    async with sessionmaker() as session, session.begin():
        for _ in range(8):
            events.append(
                await create_event(
                    session,
                    clock,
                    world.station,
                    roles=[{"name": "志愿者", "count": 3}, {"name": "摄影", "count": 2}],
                )
            )
            people.append(await create_person(session, clock, world.station))
    requests: list[Coroutine[Any, Any, httpx.Response]] = []
    for i, (event, person) in enumerate(zip(events, people, strict=True)):
        remove = client.delete(_path(event.id, event.roles[1].id), headers=world.organizer)
        sign_up = client.post(
            f"/api/v1/events/{event.id}/signups",
            json={"person_id": person.id, "role": event.roles[1].id},
            headers=world.organizer,
        )
        # Half the pairs send the removal first, half the sign-up.
        requests += [remove, sign_up] if i % 2 else [sign_up, remove]
    answers = await asyncio.gather(*requests)
    async with sessionmaker() as session:
        live = {
            s.event_id for s in await session.scalars(select(Signup)) if s.status == SignupStatus.confirmed
        }
    for i, event in enumerate(events):
        first, second = answers[2 * i], answers[2 * i + 1]
        removal, signup = (first, second) if i % 2 else (second, first)
        stored = await _stored_roles(sessionmaker, event.id)
        if removal.status_code == 204:
            assert (signup.status_code, error_code(signup)) == (422, "unknown_role"), signup.text
            assert event.id not in live
            assert stored[1].removed_at is not None
        else:
            assert (removal.status_code, error_code(removal)) == (409, "role_has_signups"), removal.text
            assert signup.status_code == 201, signup.text
            assert event.id in live
            assert stored[1].removed_at is None
