"""Coverage against the visit policies in the statistics: due, visited, on time, overdue."""

from __future__ import annotations

import io
import re

import httpx
from openpyxl import load_workbook

from coordinator.auth.models import Role
from coordinator.db import transaction
from tests.factories import create_user
from tests.visits.visit_world import ledger
from tests.web.browsing import log_in
from tests.world import World


def _by_category(answer: httpx.Response) -> dict[str, tuple[int, int, int, int, int]]:
    assert answer.status_code == 200, answer.text
    return {
        c["category"]: (c["ledger"], c["due"], c["visited"], c["visited_on_time"], c["overdue"])
        for c in answer.json()["categories"]
    }


async def test_coverage_counts_due_visited_on_time_and_overdue_and_a_visit_changes_it(
    client: httpx.AsyncClient, world: World
) -> None:
    people = await ledger(world)
    url = f"/api/v1/stats/visit-coverage?station_id={world.station.id}"
    before = await client.get(url, headers=world.organizer)
    # This month: nobody had been visited by 1 November, so all three were due; two were visited
    # on 19 November, late; the 特困 resident is still overdue.
    assert _by_category(before) == {
        "extreme_poverty": (1, 1, 0, 0, 1),
        "empty_nest_elderly": (1, 1, 1, 0, 0),
        "low_income": (1, 1, 1, 0, 0),
    }
    assert (before.json()["first"], before.json()["last"]) == ("2026-11-01", "2026-11-29")
    assert (before.json()["visits"], before.json()["residents_visited"]) == (2, 2)
    recorded = await client.post(
        "/api/v1/visits/records",
        json={
            "resident_id": people.overdue.id,
            "outcome": "visited",
            "follow_ups": [{"action": "申请临时救助", "due_on": "2026-11-28"}],
        },
        headers=world.organizer,
    )
    assert recorded.status_code == 201, recorded.text
    after = await client.get(url, headers=world.organizer)
    assert _by_category(after)["extreme_poverty"] == (1, 1, 1, 0, 0)
    assert (
        after.json()["visits"],
        after.json()["residents_visited"],
        after.json()["overdue_follow_ups"],
    ) == (3, 3, 1)


async def test_a_visit_by_the_due_day_is_on_time(client: httpx.AsyncClient, world: World) -> None:
    await ledger(world)
    answer = await client.get(
        f"/api/v1/stats/visit-coverage?station_id={world.station.id}&from=2026-09-01&to=2026-11-29",
        headers=world.organizer,
    )
    # Joined on 30 September, so due that day; visited on 19 November: visited, not on time.
    assert _by_category(answer)["empty_nest_elderly"] == (1, 1, 1, 0, 0)
    other = await client.get(
        f"/api/v1/stats/visit-coverage?station_id={world.other.id}", headers=world.organizer
    )
    assert other.status_code == 404


async def test_dashboard_and_monthly_report_show_visit_coverage(
    client: httpx.AsyncClient, world: World
) -> None:
    people = await ledger(world)
    async with transaction(world.sessionmaker) as session:
        await create_user(session, world.clock, Role.station_head, [world.station], username="visits-head")
    await log_in(client, "visits-head")
    page = (await client.get("/web/dashboard", params={"from": "2026-11-01", "to": "2026-11-29"})).text
    assert re.search(r'data-testid="overdue-extreme_poverty">1<', page)
    assert re.search(r'data-testid="visits-done">2<', page)
    await client.post(
        "/api/v1/visits/records",
        json={"resident_id": people.overdue.id, "outcome": "visited"},
        headers=world.head,
    )
    page = (await client.get("/web/dashboard", params={"from": "2026-11-01", "to": "2026-11-29"})).text
    assert re.search(r'data-testid="overdue-extreme_poverty">0<', page)
    report = await client.get(
        "/api/v1/reports/monthly.xlsx",
        params={"station_id": world.station.id, "month": "2026-11"},
        headers=world.head,
    )
    assert report.status_code == 200, report.text
    sheet = load_workbook(io.BytesIO(report.content))["走访覆盖"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert ["特困", 30, 1, 1, 1, 0, 0] in rows
    assert ["空巢老人", 14, 1, 1, 1, 0, 0] in rows
