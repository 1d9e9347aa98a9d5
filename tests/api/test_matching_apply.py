"""Applying proposals (invite or confirm, each re-checked), the station-wide batch, and the weights."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from coordinator.events.models import Event, EventStatus, SignupStatus
from coordinator.matching.models import StationMatchingWeights
from coordinator.people.models import Person
from tests.api.matching_steps import person_ids, proposed, sign_up_confirmed, signup_rows
from tests.world import World


async def _apply(
    client: httpx.AsyncClient,
    world: World,
    event: Event,
    chosen: list[tuple[Person, int]],
    mode: str = "confirm",
) -> httpx.Response:
    body = {"proposals": [{"person_id": p.id, "role_id": r} for p, r in chosen], "mode": mode}
    return await client.post(f"/api/v1/events/{event.id}/match/apply", json=body, headers=world.organizer)


def _outcomes(response: httpx.Response) -> list[tuple[int, bool, str | None, str | None]]:
    assert response.status_code == 200, response.text
    return [(r["person_id"], r["applied"], r["status"], r["code"]) for r in response.json()["results"]]


async def test_proposals_applied_as_invitations(client: httpx.AsyncClient, world: World) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 2}])
    people = [await world.person() for _ in range(2)]
    proposals = (await proposed(client, world, event))[event.roles[0].id]
    chosen = [{"person_id": p["person_id"], "role_id": p["role_id"]} for p in proposals]
    response = await client.post(
        f"/api/v1/events/{event.id}/match/apply",
        json={"proposals": chosen, "mode": "invite"},
        headers=world.organizer,
    )
    assert sorted(_outcomes(response)) == [(p.id, True, "invited", None) for p in people]
    assert response.json()["applied"] == 2
    assert await signup_rows(world) == [(event.id, p["person_id"], "invited", "matcher") for p in chosen]
    assert (await world.outbox()).count("InvitationSent") == 2


async def test_proposals_applied_as_confirmed_sign_ups_and_a_repeat_changes_nothing(
    client: httpx.AsyncClient,
    world: World,
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 3}])
    person = await world.person()
    role = event.roles[0].id
    assert _outcomes(await _apply(client, world, event, [(person, role)])) == [
        (person.id, True, "confirmed", None)
    ]
    assert await signup_rows(world) == [(event.id, person.id, "confirmed", "matcher")]
    assert (await world.outbox()).count("SignupConfirmed") == 1
    again = await _apply(client, world, event, [(person, role)])
    assert _outcomes(again) == [(person.id, False, None, "already_signed_up")]
    assert again.json()["results"][0]["message_en"] == "Already signed up or invited"
    assert len(await signup_rows(world)) == 1


async def test_each_proposal_is_checked_again_when_applied(client: httpx.AsyncClient, world: World) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 2}])
    role = event.roles[0].id
    busy, withdrawn, fits, too_late, walk_in = [await world.person() for _ in range(5)]
    # Since the proposals were made: one took an overlapping event, one withdrew consent, and
    # someone signed up directly, so one place is left.
    await sign_up_confirmed(client, world, await world.event(starts_in=timedelta(days=7, minutes=30)), busy)
    async with world.sessionmaker() as session, session.begin():
        await session.execute(update(Person).where(Person.id == withdrawn.id).values(consent_sms=False))
    await sign_up_confirmed(client, world, event, walk_in)
    response = await _apply(
        client, world, event, [(busy, role), (withdrawn, role), (fits, role), (fits, role)]
    )
    assert _outcomes(response) == [
        (busy.id, False, None, "busy"),
        (withdrawn.id, False, None, "no_consent"),
        (fits.id, True, "confirmed", None),
        (fits.id, False, None, "same_event"),
    ]
    assert response.json()["results"][1]["message"] == "未同意接收联系"
    late = await _apply(client, world, event, [(too_late, role), (withdrawn, role)])
    assert _outcomes(late) == [
        (too_late.id, False, None, "role_full"),
        (withdrawn.id, False, None, "no_consent"),
    ]
    confirmed = {p for e, p, _, _ in await signup_rows(world, SignupStatus.confirmed) if e == event.id}
    assert confirmed == {walk_in.id, fits.id}


async def test_unknown_role_or_person_refuses_the_whole_request(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event()
    elsewhere = await world.event(starts_in=timedelta(days=9))
    person = await world.person()
    stranger = await world.person(station=world.other)
    role = event.roles[0].id
    response = await _apply(client, world, event, [(person, role), (person, elsewhere.roles[0].id)])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_role"
    assert response.json()["error"]["field"] == "proposals.1.role_id"
    response = await _apply(client, world, event, [(person, role), (stranger, role)])
    assert (response.status_code, response.json()["error"]["code"]) == (422, "unknown_person")
    response = await client.post(
        f"/api/v1/events/{event.id}/match/apply",
        json={"proposals": [], "mode": "invite"},
        headers=world.organizer,
    )
    assert response.status_code == 422
    assert await signup_rows(world) == []


async def test_apply_is_station_scoped(client: httpx.AsyncClient, world: World) -> None:
    event = await world.event()
    person = await world.person()
    body = {"proposals": [{"person_id": person.id, "role_id": event.roles[0].id}], "mode": "confirm"}
    response = await client.post(
        f"/api/v1/events/{event.id}/match/apply", json=body, headers=world.other_organizer
    )
    assert response.status_code == 404
    response = await client.post(
        f"/api/v1/stations/{world.station.id}/match/apply", json=body, headers=world.other_organizer
    )
    assert response.status_code == 404
    assert await signup_rows(world) == []


async def test_concurrent_applies_never_fill_more_than_the_open_places(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 2}])
    people = [await world.person() for _ in range(8)]
    responses = await asyncio.gather(
        *(_apply(client, world, event, [(p, event.roles[0].id)]) for p in people)
    )
    outcomes = [outcome for response in responses for outcome in _outcomes(response)]
    assert sum(applied for _, applied, _, _ in outcomes) == 2
    assert {code for _, applied, _, code in outcomes if not applied} == {"role_full"}
    assert len(await signup_rows(world, SignupStatus.confirmed)) == 2
    assert await signup_rows(world, SignupStatus.waitlisted) == []


# --- the station-wide batch ---------------------------------------------------------------------------


def _window(days_from: int, days_to: int, world: World) -> dict[str, str]:
    now = world.clock.now()
    return {
        "from": (now + timedelta(days=days_from)).isoformat(),
        "to": (now + timedelta(days=days_to)).isoformat(),
    }


async def test_batch_proposes_for_the_stations_published_events_in_range_in_one_solve(
    client: httpx.AsyncClient,
    world: World,
) -> None:
    morning = await world.event(roles=[{"name": "志愿者", "count": 1}])
    overlapping = await world.event(
        starts_in=timedelta(days=7, hours=1), roles=[{"name": "志愿者", "count": 1}]
    )
    await world.event(starts_in=timedelta(days=8), status=EventStatus.draft)
    await world.event(starts_in=timedelta(days=20))
    await world.event(station=world.other, starts_in=timedelta(days=8))
    only = await world.person()
    response = await client.post(
        f"/api/v1/stations/{world.station.id}/match", json=_window(1, 14, world), headers=world.organizer
    )
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    assert [e["event_id"] for e in events] == [morning.id, overlapping.id]
    proposed = [p for e in events for r in e["roles"] for p in r["proposals"]]
    assert person_ids(proposed) == {only.id}
    assert len(proposed) == 1  # never in two overlapping events
    assert response.json()["optimal"] is True
    assert await signup_rows(world) == []


async def test_batch_apply_counts_earlier_proposals_of_the_same_request(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await world.event(starts_in=timedelta(days=3))
    second = await world.event(starts_in=timedelta(days=10))
    capped = await world.person(max_events_per_month=1)
    body = {
        "proposals": [
            {"person_id": capped.id, "role_id": first.roles[0].id},
            {"person_id": capped.id, "role_id": second.roles[0].id},
        ],
        "mode": "invite",
    }
    response = await client.post(
        f"/api/v1/stations/{world.station.id}/match/apply", json=body, headers=world.organizer
    )
    assert _outcomes(response) == [
        (capped.id, True, "invited", None),
        (capped.id, False, None, "monthly_limit"),
    ]
    assert [(e, s) for e, _, s, _ in await signup_rows(world)] == [(first.id, "invited")]


@pytest.mark.parametrize(
    ("window", "code"),
    [
        pytest.param((5, 5), "validation_error", id="empty-range"),
        pytest.param((1, 120), "range_too_long", id="too-long"),
    ],
)
async def test_batch_refuses_bad_ranges(
    client: httpx.AsyncClient, world: World, window: tuple[int, int], code: str
) -> None:
    response = await client.post(
        f"/api/v1/stations/{world.station.id}/match", json=_window(*window, world), headers=world.organizer
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)


async def test_batch_of_another_station_answers_404(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        f"/api/v1/stations/{world.station.id}/match",
        json=_window(1, 14, world),
        headers=world.other_organizer,
    )
    assert response.status_code == 404


# --- weights ------------------------------------------------------------------------------------------

WEIGHTS: dict[str, Any] = {
    "language": 0.0,
    "extra_skills": 1.5,
    "fairness_recent": 1.0,
    "fairness_load": 2.0,
    "party_quota": 4.0,
    "reliability": 2.0,
    "continuity": 3.0,
    "party_member_share": 0.25,
}


def _weights_url(world: World) -> str:
    return f"/api/v1/stations/{world.station.id}/matching-weights"


async def test_weights_default_until_a_station_head_sets_them(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get(_weights_url(world), headers=world.organizer)
    assert response.status_code == 200
    assert response.json() | {"language": 3.0} == response.json()
    assert (response.json()["is_default"], response.json()["filled_place"]) == (True, 10.0)
    refused = await client.put(_weights_url(world), json=WEIGHTS, headers=world.organizer)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "role_forbidden")
    stored = await client.put(_weights_url(world), json=WEIGHTS, headers=world.head)
    assert stored.status_code == 200, stored.text
    body = (await client.get(_weights_url(world), headers=world.organizer)).json()
    assert {k: body[k] for k in WEIGHTS} == WEIGHTS
    assert body["is_default"] is False
    assert (await client.get(_weights_url(world), headers=world.other_organizer)).status_code == 404


async def test_bad_weights_are_refused_and_nothing_is_stored(client: httpx.AsyncClient, world: World) -> None:
    for bad in ({**WEIGHTS, "language": -1}, {**WEIGHTS, "party_member_share": 1.5}, {"language": 1}):
        response = await client.put(_weights_url(world), json=bad, headers=world.head)
        assert response.status_code == 422
    assert await world.count(StationMatchingWeights) == 0


async def test_station_weights_change_who_is_proposed(client: httpx.AsyncClient, world: World) -> None:
    await world.resident(language="miao", categories=["empty_nest_elderly"])
    visit = await world.event(
        theme="home_visit", target_categories=["empty_nest_elderly"], roles=[{"name": "走访", "count": 1}]
    )
    speaker = await world.person(languages=["miao"])
    rested = await world.person(languages=["mandarin"])
    # The speaker was asked today and serves this quarter; the other one neither.
    await sign_up_confirmed(client, world, await world.event(starts_in=timedelta(days=2)), speaker)
    assert person_ids((await proposed(client, world, visit))[visit.roles[0].id]) == {speaker.id}
    response = await client.put(_weights_url(world), json=WEIGHTS, headers=world.head)  # language off
    assert response.status_code == 200
    assert person_ids((await proposed(client, world, visit))[visit.roles[0].id]) == {rested.id}


async def test_concurrent_first_writes_of_the_weights_keep_one_row(
    client: httpx.AsyncClient, world: World
) -> None:
    bodies = [{**WEIGHTS, "continuity": float(n)} for n in range(4)]
    responses = await asyncio.gather(
        *(client.put(_weights_url(world), json=body, headers=world.head) for body in bodies)
    )
    assert [r.status_code for r in responses] == [200] * 4
    assert await world.count(StationMatchingWeights) == 1
