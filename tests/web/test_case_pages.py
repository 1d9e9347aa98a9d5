"""Case-file pages: a social worker opens, works and closes a case from the pages; each read of
the notes is logged as the API's; others get the 403 or 404 page; a refused form is a 4xx page
with its message and stores nothing."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from coordinator.auth.models import Role
from coordinator.cases.models import Case, CaseEntry, CaseRead
from coordinator.db import transaction
from coordinator.people.models import Person
from tests.factories import create_user
from tests.web.browsing import log_in
from tests.world import World


async def _social_worker(world: World, username: str) -> Person:
    person = await world.person(is_social_worker=True)
    async with transaction(world.sessionmaker) as session:
        await create_user(
            session, world.clock, Role.organizer, [world.station], username=username, person_id=person.id
        )
    return person


async def _open(client: httpx.AsyncClient, csrf: str, resident_id: int, worker_id: int) -> str:
    """Opens a case through the form; answers the case page's path."""
    form = {"_csrf": csrf, "resident_id": str(resident_id), "worker_person_id": str(worker_id)}
    opened = await client.post(
        "/web/cases", data=form | {"title": "独居老人用药照料", "plan": "每周电话提醒"}
    )
    assert opened.status_code == 303, opened.text
    return opened.headers["location"]


async def test_a_social_worker_works_a_case_and_each_read_is_logged(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = await _social_worker(world, "sw")
    resident = await world.resident(name="杨秀英")
    csrf = await log_in(client, "sw")
    ledger = await client.get("/web/residents")
    opening = f"/web/cases?station={world.station.id}&amp;resident={resident.id}"
    assert opening in ledger.text  # a resident's row leads to the case form, the resident chosen
    listing = await client.get(f"/web/cases?station={world.station.id}&resident={resident.id}")
    assert listing.status_code == 200
    assert f'<option value="{resident.id}" selected>' in listing.text
    assert 'href="/web/cases"' in listing.text  # the menu offers case files to social workers
    page = await _open(client, csrf, resident.id, worker.id)

    assert "每周电话提醒" in (await client.get(page)).text
    for action, form in [
        ("entries", {"kind": "contact", "note": "电话回访，按时服药"}),
        (
            "edit",
            {"worker_person_id": str(worker.id), "assessment": "记忆力下降", "plan": "每月上门核对药盒"},
        ),
        ("close", {"reason": "子女接回同住"}),
    ]:
        answer = await client.post(f"{page}/{action}", data=form | {"_csrf": csrf})
        assert (answer.status_code, answer.headers["location"]) == (303, page)
    shown = await client.get(page)
    assert all(s in shown.text for s in ["电话回访，按时服药", "每月上门核对药盒", "已结案", "子女接回同住"])
    listed = await client.get("/web/cases?status=closed")
    assert "杨秀英" in listed.text
    assert page in listed.text
    timeline = await client.get(f"/web/residents/{resident.id}/timeline")
    assert timeline.status_code == 200
    assert "电话回访，按时服药" in timeline.text

    reads = await client.get(f"/api/v1/cases/reads?station_id={world.station.id}", headers=world.head)
    assert [r["what"] for r in reads.json()] == ["timeline", "case", "case"]
    assert {r["username"] for r in reads.json()} == {"sw"}


async def test_who_may_not_read_notes_gets_the_403_page_and_another_station_the_404_page(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = await _social_worker(world, "sw")
    resident = await world.resident()
    page = await _open(client, await log_in(client, "sw"), resident.id, worker.id)
    async with transaction(world.sessionmaker) as session:
        await create_user(session, world.clock, Role.organizer, [world.station], username="org")
        await create_user(session, world.clock, Role.station_head, [world.other], username="far")
    for username, status, message in [
        ("org", 403, "只有本站社工和站长可以查看个案记录"),
        ("far", 404, "个案"),
    ]:
        client.cookies.clear()
        await log_in(client, username)
        answer = await client.get(page)
        assert (answer.status_code, message in answer.text) == (status, True)
    client.cookies.clear()
    await log_in(client, "org")
    assert 'href="/web/cases"' not in (await client.get("/web/calendar")).text
    assert await world.count(CaseRead) == 0


async def test_a_refused_form_is_a_4xx_page_with_its_message_and_changes_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = await _social_worker(world, "sw")
    resident = await world.resident()
    csrf = await log_in(client, "sw")
    page = await _open(client, csrf, resident.id, worker.id)
    await client.post(f"{page}/entries", data={"_csrf": csrf, "kind": "note", "note": "首次联系"})

    async def stored() -> list[tuple[object, ...]]:
        """Every column of the cases and their entries, to compare before and after."""
        async with world.sessionmaker() as session:
            rows = [
                *await session.execute(select(Case.__table__)),
                *await session.execute(select(CaseEntry.__table__)),
            ]
        return [tuple(row) for row in rows]

    before = await stored()
    empty = await client.post(f"{page}/entries", data={"_csrf": csrf, "kind": "note", "note": "  "})
    assert (empty.status_code, "note" in empty.text) == (422, True)
    no_reason = await client.post(f"{page}/close", data={"_csrf": csrf, "reason": ""})
    assert (no_reason.status_code, "reason" in no_reason.text) == (422, True)
    assert await stored() == before

    assert (await client.post(f"{page}/close", data={"_csrf": csrf, "reason": "目标达成"})).status_code == 303
    closed = await stored()
    twice = await client.post(f"{page}/close", data={"_csrf": csrf, "reason": "再次结案"})
    assert (twice.status_code, "个案已结案" in twice.text) == (409, True)
    late = await client.post(f"{page}/entries", data={"_csrf": csrf, "kind": "note", "note": "补记"})
    assert (late.status_code, "个案已结案" in late.text) == (409, True)
    assert await stored() == closed
