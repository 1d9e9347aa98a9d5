"""Everything that changes an event's places, at once: sign-ups, cancellations that promote, role
count changes, answers to invitations, and the event's own cancellation. Whatever order their
locks are taken in, each request answers (no deadlock, no error page) and each role's counts stay
true."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from typing import Any

import httpx

from coordinator.events.models import Event, SignupStatus
from coordinator.people.models import Person
from tests.api.signup_requests import cancel, invite, sign_up, waiting_positions
from tests.world import World, check_role_counts, error_code

Request = Coroutine[Any, Any, httpx.Response]
ROUNDS = 4
# The count each role is set to (with force) in each round: raises promote, cuts move people back.
COUNTS = [(5, 7), (9, 3), (4, 6), (8, 2)]


# Known on PostgreSQL: a count change reads the event and its roles in one statement that locks
# the event row; when it had to wait for that lock, PostgreSQL gives it the event row as committed
# meanwhile but the joined role rows as they were before the wait. It then refuses a count that
# fits (role_counts_exceed_capacity) or stores a capacity below the sum of the counts.
async def _together(requests: list[Request]) -> list[httpx.Response]:
    """Send the requests at once; each must answer in time, with success or a refusal naming why."""
    async with asyncio.timeout(60):
        responses = await asyncio.gather(*requests)
    for response in responses:
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert error_code(response), response.text
    return responses


def _set_count(client: httpx.AsyncClient, world: World, event: Event, role: int, count: int) -> Request:
    url = f"/api/v1/events/{event.id}/roles/{event.roles[role].id}"
    return client.patch(url, json={"count": count, "force": True}, headers=world.organizer)


async def _invitations(
    client: httpx.AsyncClient, world: World, event: Event, guests: list[Person]
) -> list[str]:
    tokens = []
    for i, guest in enumerate(guests):
        sent = await invite(client, world, event.id, guest.id, event.roles[i % 2].id)
        assert sent.status_code == 201, sent.text
        tokens.append(sent.json()["token"])
    return tokens


async def test_everything_that_changes_the_places_runs_together_without_deadlock_and_keeps_the_counts(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 8}, {"name": "摄影", "count": 6}])
    tokens = await _invitations(client, world, event, await world.people(2 * ROUNDS))
    signed_up = [p.id for p in await world.people(6)]
    for person_id in signed_up:
        assert (
            await sign_up(client, world.organizer, event.id, person_id, event.roles[0].id)
        ).status_code == 201
    for n in range(ROUNDS):
        arriving = [p.id for p in await world.people(8)]
        leaving = random.Random(n).sample(signed_up, 4)
        both_ways, declined = tokens[2 * n], tokens[2 * n + 1]
        requests = (
            [
                sign_up(client, world.organizer, event.id, p, event.roles[i % 2].id)
                for i, p in enumerate(arriving)
            ]
            + [cancel(client, world.organizer, event.id, p) for p in leaving]
            + [_set_count(client, world, event, role, count) for role, count in enumerate(COUNTS[n])]
            + [client.post(f"/api/v1/invitations/{declined}/decline")]
        )
        random.Random(100 + n).shuffle(requests)
        last = n == ROUNDS - 1
        if last:  # the event is cancelled amid the rest
            requests.insert(
                len(requests) // 2, client.post(f"/api/v1/events/{event.id}/cancel", headers=world.organizer)
            )
        # One guest answers both ways at once: one answer wins.
        answers = [client.post(f"/api/v1/invitations/{both_ways}/{a}") for a in ("accept", "decline")]
        responses = await _together(answers + requests)
        if not last:  # in the last round the event's cancellation may come first
            assert sorted(r.status_code for r in responses[:2]) == [200, 409]
            assert [error_code(r) for r in responses[:2] if r.status_code == 409] == ["invitation_answered"]
        signed_up += arriving
    shown = await client.get(f"/api/v1/events/{event.id}", headers=world.organizer)
    assert shown.json()["status"] == "cancelled"
    for role in event.roles:
        await check_role_counts(world, role.id)
        listed = await waiting_positions(client, world, event.id, role.id)
        assert [position for _, position in listed] == list(range(1, len(listed) + 1))
        assert len(listed) == (await world.role(role.id)).waitlisted_count
    live = [
        s.person_id
        for s in await world.signups(event.id)
        if s.status in (SignupStatus.confirmed, SignupStatus.waitlisted, SignupStatus.invited)
    ]
    assert len(live) == len(set(live))


async def test_two_roles_changed_at_once_both_take_their_new_counts_and_the_capacity_follows(
    client: httpx.AsyncClient, world: World
) -> None:
    """The capacity of an event is the sum of its role counts; two organizers raising two roles at
    the same moment must both succeed and leave the capacity equal to the new sum."""
    for _ in range(5):
        event = await world.event(roles=[{"name": "志愿者", "count": 3}, {"name": "摄影", "count": 3}])
        answers = await _together(
            [_set_count(client, world, event, 0, 5), _set_count(client, world, event, 1, 4)]
        )
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        shown = (await client.get(f"/api/v1/events/{event.id}", headers=world.organizer)).json()
        assert ([r["count"] for r in shown["roles"]], shown["capacity"]) == ([5, 4], 9)
