"""``POST /events/{id}/match``: who is proposed, why, and that proposing changes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import AttendanceStatus
from coordinator.clock import FixedClock
from coordinator.events.models import EventStatus, Signup
from coordinator.people.models import Person
from tests.api.matching_world import MatchWorld, codes, make_world, person_ids


@pytest.fixture
async def world(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> MatchWorld:
    return await make_world(app, client, sessionmaker, clock)


async def test_miao_speaker_is_proposed_for_the_miao_speaking_elders_home_visit(world: MatchWorld) -> None:
    await world.resident(name="吴阿婆", language="miao", categories=["empty_nest_elderly"])
    visit = await world.event(
        theme="home_visit",
        target_categories=["empty_nest_elderly"],
        roles=[{"name": "走访志愿者", "count": 1}],
    )
    await world.person(languages=["mandarin"])
    speaker = await world.person(name="杨秀英", languages=["mandarin", "miao"])
    await world.person(languages=["mandarin", "dong"])
    proposals = await world.proposed(visit)
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


async def test_party_member_fills_the_party_only_role(world: MatchWorld) -> None:
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
    proposals = await world.proposed(drive)
    assert person_ids(proposals[party_role.id]) == {member.id}
    assert person_ids(proposals[open_role.id]) == {neighbour.id}
    assert {"party_quota", "party_member"} <= codes(proposals[party_role.id][0])


async def test_party_drive_prefers_party_members_up_to_the_stations_share(world: MatchWorld) -> None:
    drive = await world.event(theme="party_volunteer_drive", roles=[{"name": "志愿者", "count": 2}])
    first, second = await world.person(), await world.person()
    member = await world.person(is_party_member=True)
    # Half of two places (the default share) wants one Party member: the member, and one other.
    proposals = (await world.proposed(drive))[drive.roles[0].id]
    assert member.id in person_ids(proposals)
    assert len(person_ids(proposals) & {first.id, second.id}) == 1
    quota_reasons = [p["person_id"] for p in proposals if "party_quota" in codes(p)]
    assert quota_reasons == [member.id]


async def test_only_people_meeting_every_hard_rule_are_proposed(world: MatchWorld) -> None:
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
    await world.sign_up(overlapping, busy)
    await world.sign_up(same_month, full_month)

    response = await world.match(event)
    assert response.status_code == 200, response.text
    (role,) = response.json()["events"][0]["roles"]
    assert person_ids(role["proposals"]) == {fits.id}
    assert (role["open_places"], role["unfilled"]) == (10, 9)


async def test_open_places_leave_out_confirmed_and_invited_and_those_people(world: MatchWorld) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 3}])
    confirmed, invited = await world.person(), await world.person()
    newcomers = {(await world.person()).id, (await world.person()).id}
    await world.sign_up(event, confirmed)
    await world.invite(event, invited)
    response = await world.match(event)
    (role,) = response.json()["events"][0]["roles"]
    assert role["open_places"] == 1
    assert role["unfilled"] == 0
    assert person_ids(role["proposals"]) <= newcomers
    assert len(role["proposals"]) == 1


async def test_person_asked_recently_yields_to_one_never_asked(world: MatchWorld) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    asked = await world.person()
    never_asked = await world.person()
    await world.invite(await world.event(starts_in=timedelta(days=2)), asked)
    (chosen,) = (await world.proposed(event))[event.roles[0].id]
    assert chosen["person_id"] == never_asked.id
    assert {"fairness_recent", "fairness_load"} <= codes(chosen)


async def test_reliable_attendance_is_preferred(world: MatchWorld) -> None:
    past = [await world.event(starts_in=timedelta(days=-d), status=EventStatus.completed) for d in (20, 10)]
    flaky, steady = await world.person(), await world.person()
    for event, flaky_status in zip(past, (AttendanceStatus.present, AttendanceStatus.no_show), strict=True):
        await world.attended(event, flaky, flaky_status)
        await world.attended(event, steady, AttendanceStatus.present)
    gathering = await world.event(roles=[{"name": "志愿者", "count": 1}])
    (chosen,) = (await world.proposed(gathering))[gathering.roles[0].id]
    assert chosen["person_id"] == steady.id
    assert {"code": "reliability", "zh": "出勤率高（100%）", "en": "Reliable attendance (100%)"} in chosen[
        "reasons"
    ]


async def test_the_volunteer_who_visited_the_resident_before_is_preferred(world: MatchWorld) -> None:
    elder = await world.resident(categories=["empty_nest_elderly"])
    earlier_visit = await world.event(starts_in=timedelta(days=-10), status=EventStatus.completed)
    other_event = await world.event(starts_in=timedelta(days=-9), status=EventStatus.completed)
    newcomer, returning = await world.person(), await world.person()
    await world.attended(other_event, newcomer, AttendanceStatus.present)  # equally reliable
    await world.attended(earlier_visit, returning, AttendanceStatus.present)
    await world.served(earlier_visit, elder)
    visit = await world.event(
        theme="home_visit", target_categories=["empty_nest_elderly"], roles=[{"name": "走访", "count": 1}]
    )
    (chosen,) = (await world.proposed(visit))[visit.roles[0].id]
    assert chosen["person_id"] == returning.id
    assert {"code": "continuity", "zh": "曾走访过该居民", "en": "Visited this resident before"} in chosen[
        "reasons"
    ]


async def test_proposing_changes_nothing(world: MatchWorld) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 2}])
    for _ in range(3):
        await world.person()
    await world.sign_up(event, await world.person())
    before = (await world.signups(), await world.outbox(), await world.count(Person))
    for _ in range(2):
        response = await world.match(event)
        assert response.status_code == 200
        assert len(response.json()["events"][0]["roles"][0]["proposals"]) == 1
    assert (await world.signups(), await world.outbox(), await world.count(Person)) == before
    assert await world.count(Signup) == 1


async def test_nobody_to_propose_leaves_every_place_unfilled(world: MatchWorld) -> None:
    event = await world.event(roles=[{"name": "传承人", "count": 1, "skills": ["lusheng"]}])
    await world.person()
    response = await world.match(event)
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
async def test_events_not_open_are_refused(world: MatchWorld, fields: dict[str, object], code: str) -> None:
    event = await world.event(**fields)
    response = await world.match(event)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == code


async def test_other_stations_events_answer_404_and_volunteers_403(world: MatchWorld) -> None:
    event = await world.event()
    response = await world.match(event, world.stranger)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "event_not_found"
    missing = await world.client.post("/api/v1/events/999999/match", headers=world.organizer)
    assert missing.status_code == 404
    volunteer = await world.volunteer(await world.person())
    assert (await world.match(event, volunteer)).status_code == 403
    assert (await world.client.post(f"/api/v1/events/{event.id}/match")).status_code == 401
