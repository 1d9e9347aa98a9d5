"""Invariants 1 and 2 under real concurrency: every request is its own transaction through the
app. PostgreSQL holds them with row locks, SQLite by serializing transactions; both must give the
same answers (docs/concurrency.md)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.bus.models import OutboxEvent
from coordinator.clock import FixedClock
from coordinator.errors import CoordinatorError
from coordinator.events import lifecycle
from coordinator.events.models import Signup, SignupStatus
from coordinator.events.service import load_event
from tests.api.signup_requests import cancel, sign_up, starts_in, waiting_positions
from tests.factories import sign_up as sign_up_directly
from tests.world import World, check_role_invariants, error_code


async def test_200_concurrent_sign_ups_for_20_places_confirm_exactly_20(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 20}])
    people = await world.people(200)
    responses = await asyncio.gather(*(sign_up(client, world.organizer, event.id, p.id) for p in people))
    assert [r.status_code for r in responses] == [201] * 200
    bodies = [r.json() for r in responses]
    assert Counter(b["status"] for b in bodies) == {"confirmed": 20, "waitlisted": 180}
    # Each waiting person was told a distinct position, 1..180, in the order they got in.
    told = sorted((b["position"], b["id"]) for b in bodies if b["status"] == "waitlisted")
    assert [position for position, _ in told] == list(range(1, 181))
    assert [signup_id for _, signup_id in told] == sorted(signup_id for _, signup_id in told)
    listed = await waiting_positions(client, world, event.id)
    assert [position for _, position in listed] == list(range(1, 181))
    assert len({person for person, _ in listed}) == 180
    assert (await world.role(event.roles[0].id)).confirmed_count == 20
    await check_role_invariants(world, event.roles[0].id)
    assert len(await world.domain_events("SignupConfirmed")) == 20
    assert len(await world.domain_events("SignupWaitlisted")) == 180


async def test_interleaved_cancellations_and_sign_ups_keep_the_invariants(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 10}])
    early = await world.people(30)
    for person in early:  # 10 confirmed, 20 waiting, in a known order
        assert (await sign_up(client, world.organizer, event.id, person.id)).status_code == 201
    late = await world.people(30)
    leaving = random.Random(7).sample(early, 15)  # confirmed and waiting people alike
    requests = [sign_up(client, world.organizer, event.id, p.id) for p in late] + [
        cancel(client, world.organizer, event.id, p.id) for p in leaving
    ]
    random.Random(11).shuffle(requests)
    responses = await asyncio.gather(*requests)
    assert sorted(r.status_code for r in responses) == [201] * 30 + [204] * 15
    await check_role_invariants(world, event.roles[0].id)
    signups = await world.signups(event.id)
    live = [s for s in signups if s.status in (SignupStatus.confirmed, SignupStatus.waitlisted)]
    assert len(live) == 45
    assert sum(s.status == SignupStatus.confirmed for s in live) == 10
    # The places went to the ten earliest arrivals still there: promotion kept arrival order.
    by_arrival = sorted(live, key=lambda s: s.id)
    assert all(s.status == SignupStatus.confirmed for s in by_arrival[:10])
    listed = await waiting_positions(client, world, event.id)
    assert [position for _, position in listed] == list(range(1, 36))
    promoted = await world.domain_events("SignupPromoted")
    assert len({e["person_id"] for e in promoted}) == len(promoted)


async def test_one_person_pressing_five_times_at_once_gets_one_sign_up(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    event = await world.event(roles=[{"name": "党员志愿者", "count": 2}, {"name": "志愿者", "count": 2}])
    person = await world.person()
    roles = ["志愿者", "党员志愿者", "志愿者", "党员志愿者", "志愿者"]
    responses = await asyncio.gather(
        *(sign_up(client, world.organizer, event.id, person.id, r) for r in roles)
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 4
    assert {error_code(r) for r in responses if r.status_code == 409} == {"already_signed_up"}
    async with sessionmaker() as session:
        rows = list((await session.scalars(select(Signup).where(Signup.person_id == person.id))).all())
    assert len(rows) == 1
    confirmed_counts = [(await world.role(role.id)).confirmed_count for role in event.roles]
    assert sorted(confirmed_counts) == [0, 1]


async def test_one_person_signing_up_for_two_overlapping_events_at_once_gets_one(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await world.event()
    second = await world.event()
    person = await world.person()
    for _ in range(3):
        responses = await asyncio.gather(
            sign_up(client, world.organizer, first.id, person.id),
            sign_up(client, world.organizer, second.id, person.id),
        )
        assert sorted(r.status_code for r in responses) == [201, 409]
        assert {error_code(r) for r in responses if r.status_code == 409} == {"schedule_clash"}
        winner = first if responses[0].status_code == 201 else second
        assert (await cancel(client, world.organizer, winner.id, person.id)).status_code == 204


async def test_one_person_signing_up_for_five_events_of_a_month_at_once_gets_their_monthly_maximum(
    client: httpx.AsyncClient, world: World
) -> None:
    events = [await world.event(starts_in=starts_in(days)) for days in range(3, 8)]  # 2 to 6 December
    person = await world.person(max_events_per_month=2)
    for _ in range(2):
        responses = await asyncio.gather(*(sign_up(client, world.organizer, e.id, person.id) for e in events))
        assert sorted(r.status_code for r in responses) == [201] * 2 + [409] * 3
        assert {error_code(r) for r in responses if r.status_code == 409} == {"monthly_limit_reached"}
        held = [event for event, r in zip(events, responses, strict=True) if r.status_code == 201]
        assert [(await world.status_of(e.id, person.id))[-1] for e in held] == ["confirmed"] * 2
        for event in held:
            assert (await cancel(client, world.organizer, event.id, person.id)).status_code == 204
    assert await world.count(Signup) == 4


async def test_people_wait_where_they_were_told_and_cancellations_promote_them_in_that_order(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 2}])
    first, second = await world.people(2)
    for person in (first, second):
        assert (await sign_up(client, world.organizer, event.id, person.id)).json()["status"] == "confirmed"
    arriving = await world.people(12)
    responses = await asyncio.gather(*(sign_up(client, world.organizer, event.id, p.id) for p in arriving))
    bodies = sorted((r.json() for r in responses), key=lambda body: body["position"])
    assert [body["position"] for body in bodies] == list(range(1, 13))
    # Arrival order is the order of the positions told, and the list shows them there.
    assert [body["id"] for body in bodies] == sorted(body["id"] for body in bodies)
    in_line = [body["person_id"] for body in bodies]
    assert await waiting_positions(client, world, event.id) == [(p, i) for i, p in enumerate(in_line, 1)]
    # Both confirmed people and the fifth in line leave at once: the first two in line move up.
    leaving = [first.id, second.id, in_line[4]]
    answers = await asyncio.gather(*(cancel(client, world.organizer, event.id, p) for p in leaving))
    assert [a.status_code for a in answers] == [204] * 3
    assert [e["person_id"] for e in await world.domain_events("SignupPromoted")] == in_line[:2]
    assert [await world.status_of(event.id, p) for p in in_line[:2]] == [["confirmed"]] * 2
    still_waiting = in_line[2:4] + in_line[5:]
    listed = await waiting_positions(client, world, event.id)
    assert listed == [(p, i) for i, p in enumerate(still_waiting, 1)]
    await check_role_invariants(world, event.roles[0].id)


async def test_a_clash_committed_while_a_sign_up_waits_for_the_person_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, world: World
) -> None:
    """Another sign-up of the same person, for an overlapping event, holds the person's lock (on
    SQLite: the database's) and commits while this one waits: this one sees it and is refused."""
    morning = await world.event()
    overlapping = await world.event()
    person = await world.person()

    async def sign_up_for_the_morning() -> None:
        async with sessionmaker() as session, session.begin():
            await sign_up_directly(session, clock, event_id=morning.id, person_id=person.id)

    async with sessionmaker() as other, other.begin():
        interleaved = await sign_up_directly(other, clock, event_id=overlapping.id, person_id=person.id)
        under_test = asyncio.create_task(sign_up_for_the_morning())
        await _until_it_waits(sessionmaker, under_test)
    with pytest.raises(CoordinatorError) as refused:
        await under_test
    assert refused.value.code == "schedule_clash"
    assert interleaved.status == SignupStatus.confirmed
    assert await world.status_of(morning.id, person.id) == []
    assert (await world.role(morning.roles[0].id)).confirmed_count == 0


async def test_a_sign_up_waiting_for_an_event_s_cancellation_is_refused(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, world: World
) -> None:
    """The cancellation holds the event's roles; the sign-up, which read the event as published,
    waits and then finds it cancelled: no live sign-up on a cancelled event."""
    event = await world.event()
    person = await world.person()
    async with sessionmaker() as session, session.begin():
        locked, _ = await load_event(session, event.id, for_update=True)
        await lifecycle.cancel_event(session, clock, event=locked, reason="暴雨")
        signing_up = asyncio.create_task(sign_up(client, world.organizer, event.id, person.id))
        await _until_it_waits(sessionmaker, signing_up)
    response = await signing_up
    assert (response.status_code, error_code(response)) == (409, "event_not_open")
    assert await world.status_of(event.id, person.id) == []
    assert (await world.role(event.roles[0].id)).confirmed_count == 0


async def test_sign_ups_racing_an_event_s_cancellation_all_come_before_it(
    client: httpx.AsyncClient, world: World
) -> None:
    """Whatever the interleaving, every sign-up that stands was made before the cancellation (its
    domain event comes first, so the people it confirmed are told of the cancellation), and every
    later one is refused."""
    event = await world.event(roles=[{"name": "志愿者", "count": 10}])
    people = await world.people(40)
    requests = [sign_up(client, world.organizer, event.id, p.id) for p in people]
    requests.insert(15, client.post(f"/api/v1/events/{event.id}/cancel", json={}, headers=world.organizer))
    async with asyncio.timeout(60):
        responses = await asyncio.gather(*requests)
    cancelled = responses.pop(15)
    assert cancelled.status_code == 200, cancelled.text
    assert {r.status_code for r in responses} <= {201, 409}
    assert {error_code(r) for r in responses if r.status_code == 409} <= {"event_not_open"}
    standing = {r.json()["id"] for r in responses if r.status_code == 201}
    async with world.sessionmaker() as session:
        outbox = list(await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    cancelled_at = next(e.id for e in outbox if e.event_type == "EventCancelled")
    announced = {e.aggregate_id: e.id for e in outbox if e.aggregate_type == "signup"}
    assert set(announced) == standing
    assert all(event_id < cancelled_at for event_id in announced.values())
    assert {s.id for s in await world.signups(event.id)} == standing
    await check_role_invariants(world, event.roles[0].id)


async def _until_it_waits(sessionmaker: async_sessionmaker[AsyncSession], task: asyncio.Task[Any]) -> None:
    """Until ``task`` waits for a lock: on PostgreSQL, seen in ``pg_stat_activity``; SQLite has no
    such view, so a while (its writers queue on the database lock)."""
    if sessionmaker.kw["bind"].dialect.name != "postgresql":
        await asyncio.sleep(0.3)
        assert not task.done()
        return
    waiting = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(10):
        while True:
            async with sessionmaker() as session:
                if await session.scalar(text(waiting)):
                    return
            await asyncio.sleep(0.01)
