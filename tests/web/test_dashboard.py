"""The station head's dashboard without a browser: what its numbers count."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from coordinator.auth.models import Role
from coordinator.db import transaction
from coordinator.domain_events import DomainEventType
from tests.factories import create_event, create_user
from tests.regions import make_province
from tests.stats.history import announce_event
from tests.web.browsing import log_in
from tests.world import World


def _tile(page: str, test_id: str) -> str:
    found = re.search(rf'data-testid="{test_id}">([^<]*)<', page)
    assert found is not None, test_id
    return found.group(1)


async def test_activities_count_those_held_and_show_upcoming_ones_apart(
    client: httpx.AsyncClient, world: World
) -> None:
    async with transaction(world.sessionmaker) as session:
        clock = world.clock  # Sunday 29 November in Kaili
        await create_user(session, clock, Role.station_head, [world.station], username="head")
        for days in (-2, 1, 3):  # held on the 27th; the 30th and 2 December still ahead
            event = await create_event(session, clock, world.station, starts_in=timedelta(days=days))
            await announce_event(session, clock, event, DomainEventType.event_published)
    await world.deliver_events()
    await log_in(client, "head")

    month = (await client.get("/web/dashboard", params={"from": "2026-11-01", "to": "2026-11-30"})).text
    assert (_tile(month, "total-events"), _tile(month, "total-upcoming")) == ("1", "1")
    year = (await client.get("/web/dashboard")).text
    assert (_tile(year, "total-events"), _tile(year, "total-upcoming")) == ("1", "2")
    assert re.search(r">2026-11</a></th><td>1</td><td>1</td>", year)
    assert re.search(r">2026-12</a></th><td>0</td><td>1</td>", year)


async def test_the_county_dashboard_has_a_row_per_township_and_its_monthly_report(
    client: httpx.AsyncClient, world: World
) -> None:
    province = await make_province(world)
    async with transaction(world.sessionmaker) as session:
        await create_user(session, world.clock, Role.organizer, region_id=province.city.id, username="city")
        for station in (world.station, world.other):
            event = await create_event(session, world.clock, station, starts_in=timedelta(days=-2))
            await announce_event(session, world.clock, event, DomainEventType.event_published)
    await world.deliver_events()
    await log_in(client, "city")

    page = await client.get("/web/regions/dashboard")
    report = await client.get(
        "/web/reports/monthly.xlsx", params={"region": province.city.id, "month": "2026-11"}
    )
    hidden = await client.get("/web/regions/dashboard", params={"region": province.province.id})

    assert page.status_code == 200, page.text
    assert _tile(page.text, "total-events") == "2"
    assert _tile(page.text, "townships") == "2/2"
    assert (
        page.text.count('<th scope="row">county</th>') + page.text.count('<th scope="row">other-county</th>')
        == 2
    )
    assert report.status_code == 200
    assert f"monthly-report-region-{province.city.id}-2026-11.xlsx" in report.headers["content-disposition"]
    assert hidden.status_code == 404


def _nav_links(page: str) -> list[str]:
    nav = re.search(r"<nav [^>]*>(.*?)</nav>", page, re.S)
    assert nav is not None
    return re.findall(r'<a href="([^"]+)"', nav.group(1))


async def test_region_staff_reach_their_dashboard_and_training_from_the_navigation(
    client: httpx.AsyncClient, world: World
) -> None:
    province = await make_province(world)
    async with transaction(world.sessionmaker) as session:
        county = province.county.id
        await create_user(session, world.clock, Role.organizer, region_id=county, username="county")
        await create_user(session, world.clock, Role.station_head, [world.station], username="head")
    await log_in(client, "county")

    county_links = _nav_links((await client.get("/web/calendar")).text)
    region_page = await client.get("/web/regions/dashboard")
    training_page = await client.get("/web/training")
    client.cookies.clear()
    await log_in(client, "head")
    head_links = _nav_links((await client.get("/web/calendar")).text)

    assert {"/web/regions/dashboard", "/web/training"} <= set(county_links)
    assert region_page.status_code == 200, region_page.text
    assert 'href="/web/regions/dashboard" aria-current="page"' in region_page.text
    assert training_page.status_code == 200
    assert "/web/training" in head_links
    assert "/web/regions/dashboard" not in head_links  # a station head has no region to open
