from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import FixedClock
from coordinator.composition import Runtime
from coordinator.events.models import Signup, SignupStatus
from coordinator.events.signups.invitations import expire_invitations
from coordinator.security import sign
from coordinator.settings import Settings
from tests.api.signup_requests import invite, sign_up
from tests.conftest import START, TEST_SECRET
from tests.world import World, error_code


async def test_invitation_holds_a_place_and_accepting_confirms_it(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(title="重阳节走访", roles=[{"name": "慰问志愿者", "count": 1}])
    guest, walk_in = await world.people(2)
    sent = await invite(client, world, event.id, guest.id)
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["status"] == "invited"
    assert body["expires_at"] == "2026-12-01T10:00:00+08:00"  # 48 hours after sending
    assert body["url"].endswith(f"/web/invitation?token={body['token']}")
    # The invitation holds the only place: the next sign-up waits.
    assert (await sign_up(client, world.organizer, event.id, walk_in.id)).json()["status"] == "waitlisted"
    shown = await client.get(f"/api/v1/invitations/{body['token']}")  # no login
    assert shown.status_code == 200
    assert (shown.json()["event_title"], shown.json()["role_name"], shown.json()["status"]) == (
        "重阳节走访",
        "慰问志愿者",
        "invited",
    )
    accepted = await client.post(f"/api/v1/invitations/{body['token']}/accept")
    assert (accepted.status_code, accepted.json()["status"]) == (200, "confirmed")
    assert (await world.role(event.roles[0].id)).confirmed_count == 1
    assert await world.status_of(event.id, walk_in.id) == ["waitlisted"]
    assert [e["person_id"] for e in await world.domain_events("InvitationSent")] == [guest.id]
    answers = await world.domain_events("InvitationAnswered")
    assert [(e["person_id"], e["answer"]) for e in answers] == [(guest.id, "accepted")]
    assert guest.id in [e["person_id"] for e in await world.domain_events("SignupConfirmed")]
    again = await client.post(f"/api/v1/invitations/{body['token']}/decline")
    assert (again.status_code, error_code(again)) == (409, "invitation_answered")


async def test_declining_frees_the_place_for_the_first_waiting_person(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    guest, first, second = await world.people(3)
    token = (await invite(client, world, event.id, guest.id)).json()["token"]
    for person in (first, second):
        await sign_up(client, world.organizer, event.id, person.id)
    declined = await client.post(f"/api/v1/invitations/{token}/decline")
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    assert await world.status_of(event.id, first.id) == ["confirmed"]
    assert await world.status_of(event.id, second.id) == ["waitlisted"]
    assert [e["answer"] for e in await world.domain_events("InvitationAnswered")] == ["declined"]
    assert [e["person_id"] for e in await world.domain_events("SignupPromoted")] == [first.id]
    used = await client.post(f"/api/v1/invitations/{token}/accept")
    assert (used.status_code, error_code(used)) == (409, "invitation_answered")


async def test_expiry_frees_the_place_and_the_link_answers_410(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    guest, waiting = await world.people(2)
    token = (await invite(client, world, event.id, guest.id)).json()["token"]
    await sign_up(client, world.organizer, event.id, waiting.id)
    clock.set(START + timedelta(hours=47))
    assert await expire_invitations(sessionmaker=sessionmaker, clock=clock, settings=settings) == 0
    clock.set(START + timedelta(hours=48))
    late = await client.post(f"/api/v1/invitations/{token}/accept")
    assert (late.status_code, error_code(late)) == (410, "invitation_expired")
    assert await world.status_of(event.id, guest.id) == ["invited"]  # nothing changed by the refusal
    assert await expire_invitations(sessionmaker=sessionmaker, clock=clock, settings=settings) == 1
    assert await expire_invitations(sessionmaker=sessionmaker, clock=clock, settings=settings) == 0
    assert await world.status_of(event.id, guest.id) == ["cancelled"]
    assert await world.status_of(event.id, waiting.id) == ["confirmed"]
    assert [e["answer"] for e in await world.domain_events("InvitationAnswered")] == ["expired"]
    shown = await client.get(f"/api/v1/invitations/{token}")
    assert (shown.status_code, error_code(shown)) == (410, "invitation_expired")


async def test_invitation_never_outlives_the_event_start(client: httpx.AsyncClient, world: World) -> None:
    event = await world.event(starts_in=timedelta(hours=20))
    person = await world.person()
    body = (await invite(client, world, event.id, person.id)).json()
    assert body["expires_at"] == "2026-11-30T06:00:00+08:00"
    async with world.sessionmaker() as session:
        stored = await session.get(Signup, body["signup_id"])
        assert stored is not None
        assert stored.invitation_expires_at == event.starts_at


async def test_forged_foreign_and_unknown_tokens_are_refused(
    client: httpx.AsyncClient, world: World, clock: FixedClock
) -> None:
    event = await world.event()
    person = await world.person()
    token = (await invite(client, world, event.id, person.id)).json()["token"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    wrong_purpose = sign(TEST_SECRET, "checkin", {"sid": 1}, now=clock.now())
    unknown = sign(TEST_SECRET, "invitation", {"sid": 999_999}, now=clock.now())
    for bad in (forged, wrong_purpose, unknown, "not-a-token"):
        for response in (
            await client.get(f"/api/v1/invitations/{bad}"),
            await client.post(f"/api/v1/invitations/{bad}/accept"),
        ):
            assert (response.status_code, error_code(response)) == (422, "invalid_invitation")
    assert await world.status_of(event.id, person.id) == ["invited"]


async def test_inviting_follows_the_sign_up_rules_and_needs_a_free_place(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "芦笙老师", "count": 1, "skills": ["lusheng"]}])
    unskilled = await world.person()
    refused = await invite(client, world, event.id, unskilled.id)
    assert (refused.status_code, error_code(refused)) == (422, "requirements_not_met")
    teacher, another = await world.people(2, skills=["lusheng"])
    assert (await invite(client, world, event.id, teacher.id, role="芦笙老师")).status_code == 201
    again = await invite(client, world, event.id, teacher.id)
    assert (again.status_code, error_code(again)) == (409, "already_signed_up")
    full = await invite(client, world, event.id, another.id)
    assert (full.status_code, error_code(full)) == (409, "role_full")
    volunteer = await world.volunteer_headers(another)
    denied = await client.post(
        f"/api/v1/events/{event.id}/invitations", json={"person_id": another.id}, headers=volunteer
    )
    assert denied.status_code == 403
    assert len(await world.signups(event.id)) == 1


async def test_accepting_into_a_clash_is_409_and_leaves_the_invitation_open(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event()
    same_time = await world.event()
    person = await world.person()
    token = (await invite(client, world, event.id, person.id)).json()["token"]
    assert (await sign_up(client, world.organizer, same_time.id, person.id)).status_code == 201
    clash = await client.post(f"/api/v1/invitations/{token}/accept")
    assert (clash.status_code, error_code(clash)) == (409, "schedule_clash")
    assert await world.status_of(event.id, person.id) == ["invited"]


async def test_count_cannot_drop_below_open_invitations_even_with_force(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 2}])
    a, b = await world.people(2)
    for person in (a, b):
        await invite(client, world, event.id, person.id)
    response = await client.patch(
        f"/api/v1/events/{event.id}/roles/{event.roles[0].id}",
        json={"count": 1, "force": True},
        headers=world.organizer,
    )
    assert (response.status_code, error_code(response)) == (409, "role_count_below_invited")


async def test_staff_withdrawal_frees_the_place_and_kills_the_link(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    guest, waiting = await world.people(2)
    token = (await invite(client, world, event.id, guest.id)).json()["token"]
    await sign_up(client, world.organizer, event.id, waiting.id)
    withdrawn = await client.delete(f"/api/v1/events/{event.id}/signups/{guest.id}", headers=world.organizer)
    assert withdrawn.status_code == 204
    assert await world.status_of(event.id, waiting.id) == ["confirmed"]
    response = await client.post(f"/api/v1/invitations/{token}/accept")
    assert (response.status_code, error_code(response)) == (409, "invitation_answered")
    assert (await world.role(event.roles[0].id)).confirmed_count == 1
    assert await world.count(Signup) == 2
    assert [s.status for s in await world.signups(event.id)] == [
        SignupStatus.cancelled,
        SignupStatus.confirmed,
    ]


def test_expiry_tick_is_registered(runtime: Runtime) -> None:
    assert any(tick.run is expire_invitations for tick in runtime.scheduler.ticks)
