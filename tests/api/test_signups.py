from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth.models import User
from coordinator.clock import FixedClock
from coordinator.errors import CoordinatorError
from coordinator.events.models import Event, EventRole, EventStatus, Signup, SignupSource, SignupStatus
from coordinator.events.signups.service import add_signup
from tests.api.signup_requests import cancel, sign_up, starts_in
from tests.conftest import START
from tests.factories import sign_up as sign_up_directly
from tests.world import World, check_role_invariants, error_code

ROLES_TWO = [{"name": "党员志愿者", "count": 2}, {"name": "志愿者", "count": 3}]


async def test_sign_up_confirms_until_full_then_waitlists_with_positions(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 2}])
    people = await world.people(4)
    answers = [(await sign_up(client, world.organizer, event.id, p.id)) for p in people]
    assert [r.status_code for r in answers] == [201] * 4
    assert [(r.json()["status"], r.json()["position"]) for r in answers] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    first = answers[0].json()
    assert (first["role_name"], first["source"], first["person_name"]) == (
        "志愿者",
        "organizer",
        people[0].name,
    )
    assert first["confirmed_at"].endswith("+08:00")
    assert (await world.role(event.roles[0].id)).confirmed_count == 2
    confirmed = await world.domain_events("SignupConfirmed")
    waitlisted = await world.domain_events("SignupWaitlisted")
    assert [e["person_id"] for e in confirmed] == [people[0].id, people[1].id]
    assert [e["person_id"] for e in waitlisted] == [people[2].id, people[3].id]
    assert confirmed[0] == {
        "signup_id": first["id"],
        "event_id": event.id,
        "role_id": event.roles[0].id,
        "person_id": people[0].id,
        "status": "confirmed",
        "source": "organizer",
    }


async def test_role_is_taken_by_name_or_id_and_required_when_the_event_has_several(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=ROLES_TWO)
    party, plain = event.roles
    a, b, c, d = await world.people(4)
    missing = await sign_up(client, world.organizer, event.id, a.id)
    assert (missing.status_code, error_code(missing)) == (422, "role_required")
    assert "党员志愿者" in missing.json()["error"]["message"]
    unknown = await sign_up(client, world.organizer, event.id, a.id, role="厨师")
    assert (unknown.status_code, error_code(unknown), unknown.json()["error"]["field"]) == (
        422,
        "unknown_role",
        "role",
    )
    foreign_role = await world.event()
    wrong_id = await sign_up(client, world.organizer, event.id, a.id, role=foreign_role.roles[0].id)
    assert (wrong_id.status_code, error_code(wrong_id)) == (422, "unknown_role")
    by_name = await sign_up(client, world.organizer, event.id, b.id, role="志愿者")
    by_id = await sign_up(client, world.organizer, event.id, c.id, role=party.id)
    assert (by_name.status_code, by_name.json()["role_id"]) == (201, plain.id)
    assert (by_id.status_code, by_id.json()["role_id"]) == (201, party.id)
    assert len(await world.signups(event.id)) == 2
    single = await world.event()
    assert (await sign_up(client, world.organizer, single.id, d.id)).status_code == 201


@pytest.mark.parametrize(
    ("fields"),
    [
        {"status": EventStatus.draft, "published_at": None},
        {"status": EventStatus.cancelled},
        {"status": EventStatus.completed},
        {"starts_in": -timedelta(minutes=30)},
        {"starts_in": timedelta(0)},
    ],
    ids=["draft", "cancelled", "completed", "started", "starting-now"],
)
async def test_only_published_future_events_take_sign_ups(
    client: httpx.AsyncClient, world: World, fields: dict[str, object]
) -> None:
    event = await world.event(**fields)
    person = await world.person()
    response = await sign_up(client, world.organizer, event.id, person.id)
    assert (response.status_code, error_code(response)) == (409, "event_not_open")
    assert await world.count(Signup) == 0


async def test_unmet_requirements_are_422_naming_what_is_missing(
    client: httpx.AsyncClient, world: World
) -> None:
    role = {"name": "慰问志愿者", "count": 3, "skills": ["first_aid"], "languages": ["miao"]}
    event = await world.event(roles=[role, {"name": "党员志愿者", "count": 2, "party_members_only": True}])
    novice = await world.person(skills=["cooking"], languages=["mandarin"])
    response = await sign_up(client, world.organizer, event.id, novice.id, role="慰问志愿者")
    assert (response.status_code, error_code(response)) == (422, "requirements_not_met")
    error = response.json()["error"]
    assert error["details"] == {
        "missing_skills": ["first_aid"],
        "missing_languages": ["miao"],
        "party_member_required": False,
    }
    assert "first_aid" in error["message"]
    assert "miao" in error["message_en"]
    party = await sign_up(client, world.organizer, event.id, novice.id, role="党员志愿者")
    assert (party.status_code, party.json()["error"]["details"]["party_member_required"]) == (422, True)
    assert await world.count(Signup) == 0
    fit = await world.person(skills=["first_aid"], languages=["miao", "mandarin"], is_party_member=True)
    assert (await sign_up(client, world.organizer, event.id, fit.id, role="慰问志愿者")).status_code == 201


async def test_second_live_sign_up_of_a_person_is_409_already_signed_up(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=ROLES_TWO)
    person = await world.person()
    assert (await sign_up(client, world.organizer, event.id, person.id, role="志愿者")).status_code == 201
    for role in ("志愿者", "党员志愿者"):
        again = await sign_up(client, world.organizer, event.id, person.id, role=role)
        assert (again.status_code, error_code(again)) == (409, "already_signed_up")
    assert len(await world.signups(event.id)) == 1
    # After a cancellation the person may sign up again.
    assert (await cancel(client, world.organizer, event.id, person.id)).status_code == 204
    assert (await sign_up(client, world.organizer, event.id, person.id, role="志愿者")).status_code == 201
    assert await world.status_of(event.id, person.id) == ["cancelled", "confirmed"]


async def test_overlapping_confirmed_event_is_409_schedule_clash_naming_it(
    client: httpx.AsyncClient, world: World
) -> None:
    morning = await world.event(title="重阳节走访", starts_in=starts_in(7), duration=timedelta(hours=2))
    overlapping = await world.event(starts_in=starts_in(7, hours=1))
    adjacent = await world.event(starts_in=starts_in(7, hours=2))
    person = await world.person()
    assert (await sign_up(client, world.organizer, morning.id, person.id)).status_code == 201
    clash = await sign_up(client, world.organizer, overlapping.id, person.id)
    assert (clash.status_code, error_code(clash)) == (409, "schedule_clash")
    details = clash.json()["error"]["details"]
    assert (details["event_id"], details["title"]) == (morning.id, "重阳节走访")
    assert details["starts_at"] == "2026-12-06T10:00:00+08:00"
    assert "重阳节走访" in clash.json()["error"]["message"]
    assert "10:00" in clash.json()["error"]["message"]
    assert (await sign_up(client, world.organizer, adjacent.id, person.id)).status_code == 201
    # A cancelled place no longer clashes.
    assert (await cancel(client, world.organizer, morning.id, person.id)).status_code == 204
    assert (await sign_up(client, world.organizer, overlapping.id, person.id)).status_code == 409  # adjacent
    assert (await cancel(client, world.organizer, adjacent.id, person.id)).status_code == 204
    assert (await sign_up(client, world.organizer, overlapping.id, person.id)).status_code == 201


async def test_monthly_maximum_counts_confirmed_events_of_the_month_in_the_station_zone(
    client: httpx.AsyncClient, world: World
) -> None:
    # 2026-11-30 17:00 UTC is already 1 December in Kaili; 2026-11-30 10:00 UTC is still November.
    december_first = await world.event(starts_in=datetime(2026, 11, 30, 17, tzinfo=UTC) - START)
    november = await world.event(starts_in=datetime(2026, 11, 30, 10, tzinfo=UTC) - START)
    december_later = await world.event(starts_in=datetime(2026, 12, 20, 2, tzinfo=UTC) - START)
    person = await world.person(max_events_per_month=1)
    assert (await sign_up(client, world.organizer, december_first.id, person.id)).status_code == 201
    assert (await sign_up(client, world.organizer, november.id, person.id)).status_code == 201
    limited = await sign_up(client, world.organizer, december_later.id, person.id)
    assert (limited.status_code, error_code(limited)) == (409, "monthly_limit_reached")
    assert limited.json()["error"]["details"] == {"month": "2026-12", "limit": 1, "confirmed": 1}
    unlimited = await world.person()
    for event in (december_first, december_later, november):
        assert (await sign_up(client, world.organizer, event.id, unlimited.id)).status_code == 201


async def test_person_of_another_station_is_404_to_its_staff_and_422_to_an_admin(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event()
    stranger = await world.person(station=world.other)
    hidden = await sign_up(client, world.organizer, event.id, stranger.id)
    assert (hidden.status_code, error_code(hidden)) == (404, "person_not_found")
    mismatch = await sign_up(client, world.admin, event.id, stranger.id)
    assert (mismatch.status_code, error_code(mismatch)) == (422, "person_other_station")
    missing = await sign_up(client, world.admin, event.id, 999_999)
    assert (missing.status_code, error_code(missing)) == (404, "person_not_found")
    other_event = await world.event(station=world.other)
    person = await world.person()
    unseen = await sign_up(client, world.organizer, other_event.id, person.id)
    assert (unseen.status_code, error_code(unseen)) == (404, "event_not_found")
    assert await world.count(Signup) == 0


async def test_inactive_person_cannot_sign_up(client: httpx.AsyncClient, world: World) -> None:
    event = await world.event()
    person = await world.person(is_active=False)
    response = await sign_up(client, world.organizer, event.id, person.id)
    assert (response.status_code, error_code(response)) == (422, "person_inactive")


async def test_cancel_promotes_first_waitlisted_and_the_others_move_up(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    a, b, c = await world.people(3)
    for person in (a, b, c):
        assert (await sign_up(client, world.organizer, event.id, person.id)).status_code == 201
    assert (await cancel(client, world.organizer, event.id, a.id)).status_code == 204
    assert await world.status_of(event.id, a.id) == ["cancelled"]
    assert await world.status_of(event.id, b.id) == ["confirmed"]
    listing = await client.get(
        f"/api/v1/events/{event.id}/signups?status=waitlisted", headers=world.organizer
    )
    assert [(i["person_id"], i["position"]) for i in listing.json()["items"]] == [(c.id, 1)]
    assert (await world.role(event.roles[0].id)).confirmed_count == 1
    cancelled = await world.domain_events("SignupCancelled")
    promoted = await world.domain_events("SignupPromoted")
    assert [(e["person_id"], e["previous_status"]) for e in cancelled] == [(a.id, "confirmed")]
    assert [(e["person_id"], e["status"]) for e in promoted] == [(b.id, "confirmed")]


async def test_cancelling_a_waiting_place_moves_later_people_up_without_promotion(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    a, b, c, d = await world.people(4)
    for person in (a, b, c, d):
        await sign_up(client, world.organizer, event.id, person.id)
    assert (await cancel(client, world.organizer, event.id, b.id)).status_code == 204
    listing = (await client.get(f"/api/v1/events/{event.id}/signups", headers=world.organizer)).json()
    assert [(i["person_id"], i["status"], i["position"]) for i in listing["items"]] == [
        (a.id, "confirmed", None),
        (b.id, "cancelled", None),
        (c.id, "waitlisted", 1),
        (d.id, "waitlisted", 2),
    ]
    assert await world.domain_events("SignupPromoted") == []


async def test_promotion_skips_a_waiting_person_who_now_clashes_and_keeps_their_place(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    same_time = await world.event()
    a, b, c = await world.people(3)
    for person in (a, b, c):
        await sign_up(client, world.organizer, event.id, person.id)
    # Waiting for one event does not block a confirmed place in another at the same time.
    assert (await sign_up(client, world.organizer, same_time.id, b.id)).json()["status"] == "confirmed"
    await cancel(client, world.organizer, event.id, a.id)
    assert await world.status_of(event.id, c.id) == ["confirmed"]
    listing = await client.get(
        f"/api/v1/events/{event.id}/signups?status=waitlisted", headers=world.organizer
    )
    assert [(i["person_id"], i["position"]) for i in listing.json()["items"]] == [(b.id, 1)]
    # Once free of the clash, the skipped person is first in line again.
    await cancel(client, world.organizer, same_time.id, b.id)
    await cancel(client, world.organizer, event.id, c.id)
    assert await world.status_of(event.id, b.id) == ["confirmed"]


async def test_promotion_skips_a_waiting_person_at_their_monthly_maximum(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    later_same_month = await world.event(starts_in=starts_in(10))
    a, c = await world.people(2)
    busy = await world.person(max_events_per_month=1)
    for person in (a, busy, c):
        await sign_up(client, world.organizer, event.id, person.id)
    assert (await sign_up(client, world.organizer, later_same_month.id, busy.id)).status_code == 201
    await cancel(client, world.organizer, event.id, a.id)
    assert await world.status_of(event.id, c.id) == ["confirmed"]
    assert await world.status_of(event.id, busy.id) == ["waitlisted"]


async def test_volunteer_signs_up_and_cancels_only_themselves(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event()
    me, other = await world.people(2)
    headers = await world.volunteer_headers(me)
    mine = await sign_up(client, headers, event.id, me.id)
    assert (mine.status_code, mine.json()["source"]) == (201, "self")
    theirs = await sign_up(client, headers, event.id, other.id)
    assert (theirs.status_code, error_code(theirs)) == (403, "self_only")
    assert (await sign_up(client, world.organizer, event.id, other.id)).status_code == 201
    refused = await cancel(client, headers, event.id, other.id)
    assert (refused.status_code, error_code(refused)) == (403, "self_only")
    listing = await client.get(f"/api/v1/events/{event.id}/signups", headers=headers)
    assert (listing.status_code, error_code(listing)) == (403, "role_forbidden")
    assert (await cancel(client, headers, event.id, me.id)).status_code == 204
    assert await world.status_of(event.id, me.id) == ["cancelled"]
    elsewhere = await world.event(station=world.other)
    hidden = await sign_up(client, headers, elsewhere.id, me.id)
    assert (hidden.status_code, error_code(hidden)) == (404, "event_not_found")


async def test_a_disabled_account_is_refused_before_the_event_is_looked_up(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event()
    me = await world.person()
    headers = await world.volunteer_headers(me)
    async with world.sessionmaker() as session, session.begin():
        await session.execute(update(User).where(User.person_id == me.id).values(is_active=False))
    for event_id in (event.id, 999_999):  # a missing event tells a disabled account nothing
        refused = await sign_up(client, headers, event_id, me.id)
        assert (refused.status_code, error_code(refused)) == (401, "account_disabled")
    anonymous = await client.post(f"/api/v1/events/{event.id}/signups", json={"person_id": me.id})
    assert (anonymous.status_code, error_code(anonymous)) == (401, "not_authenticated")
    assert await world.status_of(event.id, me.id) == []


async def test_cancel_without_a_live_sign_up_is_404(client: httpx.AsyncClient, world: World) -> None:
    event = await world.event()
    person = await world.person()
    response = await cancel(client, world.organizer, event.id, person.id)
    assert (response.status_code, error_code(response)) == (404, "signup_not_found")


async def test_list_filters_by_status_and_role_and_pages(client: httpx.AsyncClient, world: World) -> None:
    event = await world.event(roles=[{"name": "党员志愿者", "count": 1}, {"name": "志愿者", "count": 1}])
    people = await world.people(5)
    for person, role in zip(people, ["党员志愿者", "志愿者", "志愿者", "志愿者", "党员志愿者"], strict=True):
        await sign_up(client, world.organizer, event.id, person.id, role=role)
    url = f"/api/v1/events/{event.id}/signups"
    waiting_plain = await client.get(f"{url}?status=waitlisted&role=志愿者", headers=world.organizer)
    assert [(i["person_id"], i["position"]) for i in waiting_plain.json()["items"]] == [
        (people[2].id, 1),
        (people[3].id, 2),
    ]
    by_id = await client.get(f"{url}?role={event.roles[0].id}", headers=world.organizer)
    assert [(i["person_id"], i["status"], i["position"]) for i in by_id.json()["items"]] == [
        (people[0].id, "confirmed", None),
        (people[4].id, "waitlisted", 1),
    ]
    first = (await client.get(f"{url}?limit=3", headers=world.organizer)).json()
    second = (
        await client.get(f"{url}?limit=3&cursor={first['next_cursor']}", headers=world.organizer)
    ).json()
    assert [i["person_id"] for i in first["items"] + second["items"]] == [p.id for p in people]
    assert second["next_cursor"] is None
    bad = await client.get(f"{url}?status=maybe", headers=world.organizer)
    assert bad.status_code == 422


async def test_raising_a_role_count_promotes_waiting_people_and_updates_capacity(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}, {"name": "主持", "count": 1}])
    a, b, c, d = await world.people(4)
    for person in (a, b, c, d):
        await sign_up(client, world.organizer, event.id, person.id, role="志愿者")
    role_id = event.roles[0].id
    response = await client.patch(
        f"/api/v1/events/{event.id}/roles/{role_id}", json={"count": 3}, headers=world.organizer
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["count"], body["confirmed_count"]) == (3, 3)
    signups = {s.person_id: s for s in await world.signups(event.id)}
    assert body["promoted_signup_ids"] == [signups[b.id].id, signups[c.id].id]
    assert signups[d.id].status == SignupStatus.waitlisted
    assert [e["person_id"] for e in await world.domain_events("SignupPromoted")] == [b.id, c.id]
    async with sessionmaker() as session:
        stored = await session.get(Event, event.id)
        assert stored is not None
        assert stored.capacity == 4  # it was the sum of the counts: it follows them
    [updated] = await world.domain_events("EventUpdated")
    assert updated["changed"] == ["capacity", "roles"]


async def test_a_set_capacity_stays_when_a_role_count_changes_and_the_counts_must_fit_in_it(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 2}, {"name": "主持", "count": 1}])
    set_capacity = await client.patch(
        f"/api/v1/events/{event.id}", json={"capacity": 10}, headers=world.organizer
    )
    assert set_capacity.status_code == 200, set_capacity.text
    url = f"/api/v1/events/{event.id}/roles/{event.roles[0].id}"
    raised = await client.patch(url, json={"count": 4}, headers=world.organizer)
    assert raised.status_code == 200, raised.text
    too_many = await client.patch(url, json={"count": 10}, headers=world.organizer)
    assert (too_many.status_code, error_code(too_many)) == (422, "role_counts_exceed_capacity")
    assert too_many.json()["error"]["field"] == "count"
    async with sessionmaker() as session:
        stored = await session.get(Event, event.id)
        assert stored is not None
        assert stored.capacity == 10
    assert (await world.role(event.roles[0].id)).count == 4
    updates = await world.domain_events("EventUpdated")
    assert [u["changed"] for u in updates] == [["capacity"], ["roles"]]


async def test_lowering_a_count_below_confirmed_is_409_unless_forced_which_moves_the_latest_to_the_head(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 3}])
    a, b, c, d = await world.people(4)
    for person in (a, b, c, d):
        await sign_up(client, world.organizer, event.id, person.id)
    url = f"/api/v1/events/{event.id}/roles/{event.roles[0].id}"
    refused = await client.patch(url, json={"count": 1}, headers=world.organizer)
    assert (refused.status_code, error_code(refused)) == (409, "role_count_below_confirmed")
    assert refused.json()["error"]["details"] == {"confirmed": 3, "invited": 0}
    assert (await world.role(event.roles[0].id)).count == 3
    forced = await client.patch(url, json={"count": 1, "force": True}, headers=world.organizer)
    assert forced.status_code == 200, forced.text
    assert forced.json()["confirmed_count"] == 1
    listing = (await client.get(f"/api/v1/events/{event.id}/signups", headers=world.organizer)).json()
    assert [(i["person_id"], i["status"], i["position"]) for i in listing["items"]] == [
        (a.id, "confirmed", None),
        (b.id, "waitlisted", 1),
        (c.id, "waitlisted", 2),
        (d.id, "waitlisted", 3),
    ]
    demoted = await world.domain_events("SignupWaitlisted")
    assert [(e["person_id"], e.get("reason")) for e in demoted[-2:]] == [
        (c.id, "role_count_lowered"),
        (b.id, "role_count_lowered"),
    ]
    # Raising it again brings them back in waitlist order.
    back = await client.patch(url, json={"count": 2}, headers=world.organizer)
    assert back.json()["promoted_signup_ids"] == [listing["items"][1]["id"]]


async def test_the_waiting_count_follows_every_way_into_and_out_of_the_queue(
    client: httpx.AsyncClient, world: World
) -> None:
    """A new arrival's position is the role's waiting count plus one: each path that changes the
    queue keeps that count (and ``check_role_invariants`` compares it with the rows)."""
    event = await world.event(roles=[{"name": "志愿者", "count": 2}])
    role_id = event.roles[0].id
    people = await world.people(7)
    url = f"/api/v1/events/{event.id}/roles/{role_id}"

    async def join(index: int) -> int | None:
        response = await sign_up(client, world.organizer, event.id, people[index].id)
        assert response.status_code == 201, response.text
        position: int | None = response.json()["position"]
        return position

    assert [await join(i) for i in range(4)] == [None, None, 1, 2]
    await check_role_invariants(world, role_id)
    assert (await cancel(client, world.organizer, event.id, people[2].id)).status_code == 204  # waiting
    await check_role_invariants(world, role_id)
    assert await join(4) == 2
    assert (await cancel(client, world.organizer, event.id, people[0].id)).status_code == 204  # promotes
    await check_role_invariants(world, role_id)
    assert await join(5) == 2
    lowered = await client.patch(url, json={"count": 1, "force": True}, headers=world.organizer)
    assert len(lowered.json()["demoted_signup_ids"]) == 1
    await check_role_invariants(world, role_id)
    assert await join(6) == 4
    raised = await client.patch(url, json={"count": 4}, headers=world.organizer)
    assert len(raised.json()["promoted_signup_ids"]) == 3
    await check_role_invariants(world, role_id)
    assert (await world.role(role_id)).waitlisted_count == 1


async def test_role_count_patch_rejects_bad_counts_unknown_roles_and_volunteers(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event()
    url = f"/api/v1/events/{event.id}/roles"
    negative = await client.patch(f"{url}/{event.roles[0].id}", json={"count": -1}, headers=world.organizer)
    assert (negative.status_code, negative.json()["error"]["field"]) == (422, "count")
    other = await world.event()
    unknown = await client.patch(f"{url}/{other.roles[0].id}", json={"count": 2}, headers=world.organizer)
    assert (unknown.status_code, error_code(unknown)) == (404, "role_not_found")
    volunteer = await world.volunteer_headers(await world.person())
    denied = await client.patch(f"{url}/{event.roles[0].id}", json={"count": 9}, headers=volunteer)
    assert denied.status_code == 403
    assert (await world.role(event.roles[0].id)).count == 5


async def test_the_database_index_refuses_a_second_live_sign_up_that_skipped_the_checks(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    event = await world.event(roles=ROLES_TWO)
    person = await world.person()

    def row(status: SignupStatus, role_index: int) -> Signup:
        return Signup(
            event_id=event.id,
            role_id=event.roles[role_index].id,
            person_id=person.id,
            status=status,
            source=SignupSource.organizer,
            created_at=clock.now(),
            updated_at=clock.now(),
        )

    async with sessionmaker() as session, session.begin():
        await add_signup(session, row(SignupStatus.cancelled, 0))
        await add_signup(session, row(SignupStatus.confirmed, 0))
    with pytest.raises(CoordinatorError) as refused:
        async with sessionmaker() as session, session.begin():
            await add_signup(session, row(SignupStatus.waitlisted, 1))
    assert refused.value.code == "already_signed_up"
    assert await world.status_of(event.id, person.id) == ["cancelled", "confirmed"]


async def test_a_role_loaded_before_a_sign_up_shows_what_the_sign_up_stored(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    first, second = await world.people(2)
    async with sessionmaker() as session, session.begin():
        role = await session.get(EventRole, event.roles[0].id)  # as the matcher loads its roles
        for person in (first, second):
            await sign_up_directly(
                session, clock, event_id=event.id, person_id=person.id, source=SignupSource.self
            )
        assert role is not None
        assert (role.confirmed_count, role.waitlisted_count) == (1, 1)
