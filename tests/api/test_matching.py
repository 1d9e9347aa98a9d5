"""``POST /events/{id}/match``: who is proposed, why, and that proposing changes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from coordinator.attendance.models import AttendanceStatus
from coordinator.events.models import EventStatus, Signup
from coordinator.people.models import Person
from tests.api.matching_steps import (
    attended,
    codes,
    match,
    person_ids,
    proposed,
    send_invitation,
    served,
    sign_up_confirmed,
    signup_rows,
)
from tests.world import World


async def test_miao_speaker_is_proposed_for_the_miao_speaking_elders_home_visit(
    client: httpx.AsyncClient, world: World
) -> None:
    await world.resident(name="吴阿婆", language="miao", categories=["empty_nest_elderly"])
    visit = await world.event(
        theme="home_visit",
        target_categories=["empty_nest_elderly"],
        roles=[{"name": "走访志愿者", "count": 1}],
    )
    await world.person(languages=["mandarin"])
    speaker = await world.person(name="杨秀英", languages=["mandarin", "miao"])
    await world.person(languages=["mandarin", "dong"])
    proposals = await proposed(client, world, visit)
    (chosen,) = proposals[visit.roles[0].id]
    assert (chosen["person_id"], chosen["name"], chosen["role_id"]) == (
        speaker.id,
        "杨秀英",
        visit.roles[0].id,
    )
    language = next(r for r in chosen["reasons"] if r["code"] == "language")
    assert language["zh"] == "会说苗语，与服务对象语言相同"
    assert language["en"] == "Speaks Miao (Hmong), the residents' language"
    # place + language + never asked + nothing served this quarter + no attendance history (half)
    assert chosen["score"] == pytest.approx(10 + 3.0 + 1.0 + 2.0 + 2.0 * 0.5)


async def test_party_member_fills_the_party_only_role(client: httpx.AsyncClient, world: World) -> None:
    drive = await world.event(
        theme="party_volunteer_drive",
        roles=[
            {"name": "党员志愿者", "count": 1, "party_members_only": True},
            {"name": "志愿者", "count": 1},
        ],
    )
    member = await world.person(is_party_member=True, party_branch="营盘坡社区党支部")
    neighbour = await world.person()
    party_role, open_role = drive.roles
    proposals = await proposed(client, world, drive)
    assert person_ids(proposals[party_role.id]) == {member.id}
    assert person_ids(proposals[open_role.id]) == {neighbour.id}
    assert {"party_quota", "party_member"} <= codes(proposals[party_role.id][0])


async def test_party_drive_prefers_party_members_up_to_the_stations_share(
    client: httpx.AsyncClient, world: World
) -> None:
    drive = await world.event(theme="party_volunteer_drive", roles=[{"name": "志愿者", "count": 2}])
    first, second = await world.person(), await world.person()
    member = await world.person(is_party_member=True)
    # Half of two places (the default share) wants one Party member: the member, and one other.
    proposals = (await proposed(client, world, drive))[drive.roles[0].id]
    assert member.id in person_ids(proposals)
    assert len(person_ids(proposals) & {first.id, second.id}) == 1
    quota_reasons = [p["person_id"] for p in proposals if "party_quota" in codes(p)]
    assert quota_reasons == [member.id]


async def test_only_people_meeting_every_hard_rule_are_proposed(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "急救员", "count": 10, "skills": ["first_aid"]}])
    first_aid = ["first_aid"]
    fits = await world.person(skills=first_aid)
    busy = await world.person(skills=first_aid)
    full_month = await world.person(skills=first_aid, max_events_per_month=1)
    await world.person(skills=first_aid, availability=[{"weekday": 0, "start": "18:00", "end": "21:00"}])
    await world.person(skills=first_aid, consent_sms=False)
    await world.person(skills=first_aid, consent_sms=False, consent_email=True)  # no address to write to
    await world.person(skills=first_aid, is_active=False)
    await world.person(skills=first_aid, station=world.other)
    await world.person(skills=["haircut"])
    overlapping = await world.event(starts_in=timedelta(days=7, hours=1))
    same_month = await world.event(starts_in=timedelta(days=3))
    await sign_up_confirmed(client, world, overlapping, busy)
    await sign_up_confirmed(client, world, same_month, full_month)

    response = await match(client, world, event)
    assert response.status_code == 200, response.text
    (role,) = response.json()["events"][0]["roles"]
    assert person_ids(role["proposals"]) == {fits.id}
    assert (role["open_places"], role["unfilled"]) == (10, 9)


async def test_open_places_leave_out_confirmed_and_invited_and_those_people(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 3}])
    confirmed, invited = await world.person(), await world.person()
    newcomers = {(await world.person()).id, (await world.person()).id}
    await sign_up_confirmed(client, world, event, confirmed)
    await send_invitation(client, world, event, invited)
    response = await match(client, world, event)
    (role,) = response.json()["events"][0]["roles"]
    assert role["open_places"] == 1
    assert role["unfilled"] == 0
    assert person_ids(role["proposals"]) <= newcomers
    assert len(role["proposals"]) == 1


async def test_person_asked_recently_yields_to_one_never_asked(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    asked = await world.person()
    never_asked = await world.person()
    await send_invitation(client, world, await world.event(starts_in=timedelta(days=2)), asked)
    (chosen,) = (await proposed(client, world, event))[event.roles[0].id]
    assert chosen["person_id"] == never_asked.id
    assert {"fairness_recent", "fairness_load"} <= codes(chosen)


async def test_reliable_attendance_is_preferred(client: httpx.AsyncClient, world: World) -> None:
    past = [await world.event(starts_in=timedelta(days=-d), status=EventStatus.completed) for d in (20, 10)]
    flaky, steady = await world.person(), await world.person()
    for event, flaky_status in zip(past, (AttendanceStatus.present, AttendanceStatus.no_show), strict=True):
        await attended(world, event, flaky, flaky_status)
        await attended(world, event, steady, AttendanceStatus.present)
    gathering = await world.event(roles=[{"name": "志愿者", "count": 1}])
    (chosen,) = (await proposed(client, world, gathering))[gathering.roles[0].id]
    assert chosen["person_id"] == steady.id
    assert {"code": "reliability", "zh": "出勤率高（100%）", "en": "Reliable attendance (100%)"} in chosen[
        "reasons"
    ]


async def test_the_volunteer_who_visited_the_resident_before_is_preferred(
    client: httpx.AsyncClient, world: World
) -> None:
    elder = await world.resident(categories=["empty_nest_elderly"])
    earlier_visit = await world.event(starts_in=timedelta(days=-10), status=EventStatus.completed)
    other_event = await world.event(starts_in=timedelta(days=-9), status=EventStatus.completed)
    newcomer, returning = await world.person(), await world.person()
    await attended(world, other_event, newcomer, AttendanceStatus.present)  # equally reliable
    await attended(world, earlier_visit, returning, AttendanceStatus.present)
    await served(world, earlier_visit, elder)
    visit = await world.event(
        theme="home_visit", target_categories=["empty_nest_elderly"], roles=[{"name": "走访", "count": 1}]
    )
    (chosen,) = (await proposed(client, world, visit))[visit.roles[0].id]
    assert chosen["person_id"] == returning.id
    assert {"code": "continuity", "zh": "曾走访过该居民", "en": "Visited this resident before"} in chosen[
        "reasons"
    ]


async def test_proposing_changes_nothing(client: httpx.AsyncClient, world: World) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 2}])
    for _ in range(3):
        await world.person()
    await sign_up_confirmed(client, world, event, await world.person())
    before = (await signup_rows(world), await world.outbox(), await world.count(Person))
    for _ in range(2):
        response = await match(client, world, event)
        assert response.status_code == 200
        assert len(response.json()["events"][0]["roles"][0]["proposals"]) == 1
    assert (await signup_rows(world), await world.outbox(), await world.count(Person)) == before
    assert await world.count(Signup) == 1


async def test_nobody_to_propose_leaves_every_place_unfilled(client: httpx.AsyncClient, world: World) -> None:
    event = await world.event(roles=[{"name": "传承人", "count": 1, "skills": ["lusheng"]}])
    await world.person()
    response = await match(client, world, event)
    body = response.json()
    assert body["events"][0]["roles"][0]["proposals"] == []
    assert body["events"][0]["roles"][0]["unfilled"] == 1
    assert (body["objective"], body["optimal"]) == (0.0, True)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        pytest.param({"status": EventStatus.draft}, "event_not_open", id="draft"),
        pytest.param({"status": EventStatus.cancelled}, "event_not_open", id="cancelled"),
        pytest.param({"starts_in": timedelta(hours=-1)}, "event_not_open", id="started"),
    ],
)
async def test_events_not_open_are_refused(
    client: httpx.AsyncClient, world: World, fields: dict[str, object], code: str
) -> None:
    event = await world.event(**fields)
    response = await match(client, world, event)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == code


async def test_other_stations_events_answer_404_and_volunteers_403(
    client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event()
    response = await match(client, world, event, world.other_organizer)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "event_not_found"
    missing = await client.post("/api/v1/events/999999/match", headers=world.organizer)
    assert missing.status_code == 404
    volunteer = await world.volunteer_headers(await world.person())
    assert (await match(client, world, event, volunteer)).status_code == 403
    assert (await client.post(f"/api/v1/events/{event.id}/match")).status_code == 401
