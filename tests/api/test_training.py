"""Training courses: invitations and applications, sessions on the calendar with the trainees
signed up, attendance through the event's roster, hours against the requirement, statistics."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from coordinator.db import transaction
from coordinator.people.models import Person
from coordinator.regions.service import place_station
from coordinator.training.hours import training_records
from tests.factories import create_station
from tests.regions import ADMIN, Province, make_province, region_staff
from tests.world import Headers, World, error_code

API = "/api/v1"


async def _course(
    client: httpx.AsyncClient, headers: Headers, region_id: int, **fields: Any
) -> dict[str, Any]:
    body = {"topic": "儿童福利社会工作能力提升班", "region_id": region_id,
            "target_classes": ["social_worker", "township_station_lead"], "trainers": ["李老师"],
            "capacity": 2, **fields}  # fmt: skip
    response = await client.post(f"{API}/courses", json=body, headers=headers)
    assert response.status_code == 201, response.text
    course: dict[str, Any] = response.json()
    return course


async def _session(
    client: httpx.AsyncClient, world: World, headers: Headers, course_id: int, days: int, **fields: Any
) -> httpx.Response:
    starts = world.clock.now() + timedelta(days=days)
    body = {"station_id": world.station.id, "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(), "location": "凯里市民政局会议室",
            **fields}  # fmt: skip
    return await client.post(f"{API}/courses/{course_id}/sessions", json=body, headers=headers)


async def _enrol(
    client: httpx.AsyncClient,
    course_id: int,
    person: Person,
    kind: str,
    headers: Headers,
    cls: str = "social_worker",
) -> httpx.Response:
    body = {"person_id": person.id, "trainee_class": cls}
    return await client.post(f"{API}/courses/{course_id}/{kind}", json=body, headers=headers)


async def _answer(
    client: httpx.AsyncClient, course_id: int, person: Person, action: str, headers: Headers
) -> httpx.Response:
    return await client.post(f"{API}/courses/{course_id}/enrolments/{person.id}/{action}", headers=headers)


async def _two_enrolled(
    client: httpx.AsyncClient, world: World, province: Province
) -> tuple[dict[str, Any], Headers]:
    county = await region_staff(world, province.county)
    course = await _course(client, county, province.county.id)
    first, second = await world.people(2)
    invited = await _enrol(client, course["id"], first, "invitations", county)
    applied = await _enrol(
        client, course["id"], second, "applications", world.organizer, "township_station_lead"
    )
    assert (invited.json()["status"], applied.json()["status"]) == ("invited", "applied")
    assert (await _answer(client, course["id"], first, "accept", world.head)).json()["status"] == "enrolled"
    assert (await _answer(client, course["id"], second, "approve", county)).json()["status"] == "enrolled"
    return course, county


async def test_enrolled_trainees_are_signed_up_to_every_session(
    client: httpx.AsyncClient, world: World
) -> None:
    province = await make_province(world)
    county = await region_staff(world, province.county)
    course = await _course(client, county, province.county.id)
    before = await _session(client, world, county, course["id"], days=3)
    assert before.status_code == 201, before.text
    first, second = await world.people(2)

    await _enrol(client, course["id"], first, "invitations", county)
    await _answer(client, course["id"], first, "accept", world.head)
    await _enrol(client, course["id"], second, "applications", world.organizer)
    await _answer(client, course["id"], second, "approve", county)
    after = await _session(
        client, world, county, course["id"], days=10, online=True, location="https://meeting.example/1"
    )

    assert after.status_code == 201, after.text
    assert (after.json()["signed_up"], after.json()["online"], after.json()["status"]) == (
        2,
        True,
        "published",
    )
    signups = await client.get(f"{API}/events/{before.json()['event_id']}/signups", headers=world.organizer)
    assert {(s["person_id"], s["status"]) for s in signups.json()["items"]} == {
        (first.id, "confirmed"), (second.id, "confirmed")
    }  # fmt: skip
    listed = await client.get(f"{API}/courses/{course['id']}/sessions", headers=world.head)
    assert [s["signed_up"] for s in listed.json()] == [2, 2]
    assert listed.json()[0]["starts_at"].endswith("+08:00")  # in the host station's zone
    shown = await client.get(f"{API}/courses/{course['id']}", headers=county)
    assert shown.json()["enrolled_count"] == 2


async def test_a_full_course_and_wrong_answers_are_refused(client: httpx.AsyncClient, world: World) -> None:
    province = await make_province(world)
    course, county = await _two_enrolled(client, world, province)
    third = await world.person()
    outsider = await world.person(station=world.other)

    await _enrol(client, course["id"], third, "applications", world.organizer)
    full = await _answer(client, course["id"], third, "approve", county)
    twice = await _enrol(client, course["id"], third, "invitations", county)
    self_approved = await _answer(client, course["id"], third, "approve", world.head)
    accept_application = await _answer(client, course["id"], third, "accept", world.head)
    other_county = await _enrol(client, course["id"], outsider, "invitations", county)
    not_targeted = await _enrol(
        client, course["id"], await world.person(), "invitations", county, "department_official"
    )

    assert (full.status_code, error_code(full)) == (409, "course_full")
    assert (twice.status_code, error_code(twice)) == (409, "enrolment_exists")
    assert self_approved.status_code == 404  # a station head does not organize the county's course
    assert (accept_application.status_code, error_code(accept_application)) == (409, "enrolment_not_pending")
    assert (other_county.status_code, error_code(other_county)) == (422, "person_outside_organizer")
    assert (not_targeted.status_code, error_code(not_targeted)) == (422, "class_not_targeted")
    listed = await client.get(f"{API}/courses/{course['id']}/enrolments", headers=county)
    assert [e["status"] for e in listed.json()] == ["enrolled", "enrolled", "applied"]


async def test_bad_courses_and_sessions_store_nothing(client: httpx.AsyncClient, world: World) -> None:
    province = await make_province(world)
    county = await region_staff(world, province.county)
    unknown = await client.post(
        f"{API}/courses",
        json={"topic": "x", "region_id": province.county.id, "target_classes": ["astronaut"], "capacity": 5},
        headers=county,
    )
    both = await client.post(
        f"{API}/courses",
        json={"topic": "x", "region_id": province.county.id, "station_id": world.station.id,
              "target_classes": ["social_worker"], "capacity": 5},
        headers=county,
    )  # fmt: skip
    course = await _course(client, county, province.county.id)
    no_host = await _session(client, world, county, course["id"], days=3, station_id=None)
    other_host = await _session(client, world, county, course["id"], days=3, station_id=world.other.id)

    assert (unknown.status_code, error_code(unknown)) == (422, "unknown_trainee_class")
    assert both.status_code == 422
    assert (no_host.status_code, error_code(no_host)) == (422, "host_station_outside_organizer")
    assert (other_host.status_code, error_code(other_host)) == (422, "host_station_outside_organizer")
    assert (await client.get(f"{API}/courses/{course['id']}/sessions", headers=county)).json() == []
    assert [c["id"] for c in (await client.get(f"{API}/courses", headers=county)).json()["items"]] == [
        course["id"]
    ]


async def test_courses_stay_within_their_region(client: httpx.AsyncClient, world: World) -> None:
    province = await make_province(world)
    county = await region_staff(world, province.county)
    other_county = await region_staff(world, province.other_county)
    city = await region_staff(world, province.city)
    course = await _course(client, county, province.county.id)
    path = f"{API}/courses/{course['id']}"

    for headers in (other_county, world.other_head, world.other_organizer):
        assert (await client.get(path, headers=headers)).status_code == 404
        assert (await _session(client, world, headers, course["id"], days=3)).status_code == 404
        listed = await client.get(f"{API}/courses", headers=headers)
        assert listed.json()["items"] == []
    station_course = await client.post(
        f"{API}/courses",
        json={
            "topic": "x",
            "region_id": province.county.id,
            "target_classes": ["social_worker"],
            "capacity": 5,
        },
        headers=world.head,
    )
    assert station_course.status_code == 404  # station staff organize for their station, not a region
    assert (await client.get(path, headers=world.head)).status_code == 200  # open to apply
    assert (await _session(client, world, world.head, course["id"], days=3)).status_code == 404
    assert (await _session(client, world, city, course["id"], days=3)).status_code == 201  # from above


async def test_hours_against_the_requirement_and_statistics(client: httpx.AsyncClient, world: World) -> None:
    province = await make_province(world)
    course, county = await _two_enrolled(client, world, province)
    first_session = (await _session(client, world, county, course["id"], days=1)).json()
    await _session(client, world, county, course["id"], days=2)
    enrolments = await client.get(f"{API}/courses/{course['id']}/enrolments", headers=county)
    first, second = enrolments.json()  # in enrolment order
    roster = {"records": [{"person_id": first["person_id"], "present": True},
                          {"person_id": second["person_id"], "present": False}]}  # fmt: skip
    recorded = await client.post(
        f"{API}/events/{first_session['event_id']}/attendance", json=roster, headers=county
    )
    assert recorded.status_code < 300, recorded.text

    hours = await client.get(
        f"{API}/training/hours", params={"region_id": province.county.id}, headers=county
    )
    short = await client.get(
        f"{API}/training/hours",
        params={"station_id": world.station.id, "short_only": True},
        headers=world.head,
    )
    stats = await client.get(f"{API}/stats/training", params={"region_id": province.city.id}, headers=county)
    city_staff = await region_staff(world, province.city)
    city = await client.get(
        f"{API}/stats/training", params={"region_id": province.city.id}, headers=city_staff
    )
    records = await client.get(f"{API}/people/{first['person_id']}/training", headers=world.head)
    service_record = await client.get(f"{API}/people/{first['person_id']}/service-record", headers=world.head)

    assert [(h["person_id"], h["hours"], h["required_hours"], h["short_by"]) for h in hours.json()] == [
        (first["person_id"], 3.0, 24.0, 21.0), (second["person_id"], 0.0, 24.0, 24.0)
    ]  # fmt: skip
    assert len(short.json()) == 2
    assert stats.status_code == 404  # a county's staff see nothing of the city above them
    totals = city.json()["totals"]
    figures = ("courses", "sessions", "trainees", "person_times", "hours", "short_of_requirement")
    assert [totals[k] for k in figures] == [1, 2, 2, 1, 3.0, 2]
    assert [(c["trainee_class"], c["trainees"]) for c in totals["by_class"]] == [
        ("township_station_lead", 1), ("social_worker", 1)
    ]  # fmt: skip
    assert [(r["region_id"], r["trainees"], r["sessions"]) for r in city.json()["rows"]] == [
        (province.county.id, 2, 2), (province.other_county.id, 0, 0)
    ]  # fmt: skip
    assert [(r["course_id"], r["hours"]) for r in records.json()] == [(course["id"], 3.0)]
    assert records.json()[0]["starts_at"].endswith("+08:00")
    # The volunteer's service record (志愿服务记录) lists the attended session as a training record.
    assert [
        (t["course_id"], t["event_id"], t["hours"]) for t in service_record.json()["course_sessions"]
    ] == [(course["id"], first_session["event_id"], 3.0)]
    async with transaction(world.sessionmaker) as session:
        assert [r.event_id for r in await training_records(session, first["person_id"])] == [
            first_session["event_id"]
        ]


async def test_concurrent_approvals_never_enrol_beyond_capacity(
    client: httpx.AsyncClient, world: World
) -> None:
    province = await make_province(world)
    county = await region_staff(world, province.county)
    course = await _course(client, county, province.county.id, capacity=3)
    session = await _session(client, world, county, course["id"], days=5)
    people = await world.people(12)
    for person in people:
        assert (
            await _enrol(client, course["id"], person, "applications", world.organizer)
        ).status_code == 201

    answers = await asyncio.gather(*(_answer(client, course["id"], p, "approve", county) for p in people))

    assert sorted(a.status_code for a in answers) == [200] * 3 + [409] * 9
    assert {error_code(a) for a in answers if a.status_code == 409} == {"course_full"}
    enrolled = {a.json()["person_id"] for a in answers if a.status_code == 200}
    signups = await client.get(f"{API}/events/{session.json()['event_id']}/signups", headers=county)
    assert {s["person_id"] for s in signups.json()["items"] if s["status"] == "confirmed"} == enrolled
    assert (await client.get(f"{API}/courses/{course['id']}", headers=county)).json()["enrolled_count"] == 3


async def test_a_county_course_gathers_trainees_of_several_stations(
    client: httpx.AsyncClient, world: World
) -> None:
    province = await make_province(world)
    async with transaction(world.sessionmaker) as session:
        neighbour = await create_station(session, world.clock, name="龙井社区")
        await place_station(
            session=session, principal=ADMIN, station_id=neighbour.id, region_id=province.township.id
        )
    county = await region_staff(world, province.county)  # after the new station: its token sees it
    course = await _course(client, county, province.county.id)
    session = (await _session(client, world, county, course["id"], days=2)).json()
    trainee = await world.person(station=neighbour)

    await _enrol(client, course["id"], trainee, "invitations", county)
    accepted = await _answer(client, course["id"], trainee, "accept", county)
    roster = {"records": [{"person_id": trainee.id, "present": True}]}
    recorded = await client.post(
        f"{API}/events/{session['event_id']}/attendance", json=roster, headers=county
    )
    hours = await client.get(f"{API}/training/hours", params={"station_id": neighbour.id}, headers=county)

    assert accepted.json()["status"] == "enrolled"
    assert recorded.status_code < 300, recorded.text
    assert [(h["person_id"], h["station_id"], h["hours"]) for h in hours.json()] == [
        (trainee.id, neighbour.id, 3.0)
    ]
    # Other activities still take only their own station's people.
    drive = await world.event()
    mismatch = await client.post(
        f"{API}/events/{drive.id}/signups", json={"person_id": trainee.id}, headers=county
    )
    assert (mismatch.status_code, error_code(mismatch)) == (422, "person_other_station")


async def test_a_withdrawn_trainee_frees_the_place_and_leaves_the_open_sessions(
    client: httpx.AsyncClient, world: World
) -> None:
    province = await make_province(world)
    course, county = await _two_enrolled(client, world, province)
    session = (await _session(client, world, county, course["id"], days=3)).json()
    first = (await client.get(f"{API}/courses/{course['id']}/enrolments", headers=county)).json()[0]
    person = await world.person()
    await _enrol(client, course["id"], person, "applications", world.organizer)

    refused = await _answer(client, course["id"], person, "withdraw", world.other_head)
    full = await _answer(client, course["id"], person, "approve", county)
    withdrawn = await client.post(
        f"{API}/courses/{course['id']}/enrolments/{first['person_id']}/withdraw", headers=world.head
    )
    approved = await _answer(client, course["id"], person, "approve", county)

    assert refused.status_code == 404
    assert error_code(full) == "course_full"
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    assert approved.json()["status"] == "enrolled"
    signups = await client.get(f"{API}/events/{session['event_id']}/signups", headers=county)
    confirmed = {s["person_id"] for s in signups.json()["items"] if s["status"] == "confirmed"}
    assert first["person_id"] not in confirmed
    assert person.id in confirmed
