"""The organizer's activity page: notifications in words, and the residents offered as served."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from coordinator.auth.models import Role
from coordinator.db import transaction
from tests.factories import create_event, create_resident, create_user
from tests.web.browsing import log_in
from tests.world import World


async def _organizer(world: World) -> None:
    async with transaction(world.sessionmaker) as session:
        await create_user(session, world.clock, Role.organizer, [world.station], username="org")


def _served_names(page: str) -> list[str]:
    """The residents offered in the residents-served form, in page order."""
    section = page.split('id="served-h"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'name="resident" value="\d+"[^>]*> ([^<]+)</label>', section)


async def test_reminders_say_how_long_before_in_the_readers_language(
    client: httpx.AsyncClient, world: World
) -> None:
    await _organizer(world)
    event = await world.event(reminder_offsets=["P1D", "PT2H"])
    await world.sign_up(event, await world.person())
    await world.deliver_events()

    token = await log_in(client, "org")
    page = (await client.get(f"/web/events/{event.id}")).text
    assert "活动提醒 · 提前1天" in page
    assert "活动提醒 · 提前2小时" in page
    assert "PT2H" not in page
    assert "P1D" not in page

    await client.post("/web/lang", data={"_csrf": token, "lang": "en", "next": "/"})
    english = (await client.get(f"/web/events/{event.id}")).text
    assert "Reminder · 1 day before" in english
    assert "Reminder · 2 hours before" in english


async def test_residents_served_offers_the_target_categories_first_and_finds_anyone_by_name(
    client: httpx.AsyncClient, world: World
) -> None:
    await _organizer(world)
    async with transaction(world.sessionmaker) as session:
        clock, station = world.clock, world.station
        event = await create_event(
            session, clock, station, starts_in=timedelta(hours=-1), target_categories=["empty_nest_elderly"]
        )
        await create_resident(session, clock, station, name="吴老奶", categories=["empty_nest_elderly"])
        await create_resident(
            session, clock, station, name="杨阿公", categories=["empty_nest_elderly", "disabled"]
        )
        for i in range(30):
            await create_resident(
                session, clock, station, name=f"留守儿童{i}", categories=["left_behind_child"]
            )
        await create_resident(session, clock, station, name="王小花", categories=["left_behind_child"])
        event_id = event.id
    token = await log_in(client, "org")

    page = (await client.get(f"/web/events/{event_id}")).text
    assert _served_names(page) == ["吴老奶", "杨阿公"]
    assert "本活动服务类别的居民" in page

    found = (await client.get(f"/web/events/{event_id}", params={"resident": "王"})).text
    assert _served_names(found) == ["王小花"]
    # Serving someone outside the categories keeps them on the list, ticked.
    wang = re.search(r'name="resident" value="(\d+)"', found)
    assert wang is not None
    saved = await client.post(
        f"/web/events/{event_id}/served", data={"_csrf": token, "resident": wang.group(1), "headcount": "0"}
    )
    assert saved.status_code == 303
    after = (await client.get(f"/web/events/{event_id}")).text
    assert _served_names(after) == ["王小花", "吴老奶", "杨阿公"]
    assert re.search(rf'value="{wang.group(1)}" checked disabled', after)
