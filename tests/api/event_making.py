"""Event request bodies and sign-up rows as given, for the event, series and iCalendar tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.events.models import Signup, SignupSource, SignupStatus
from tests.factories import count_on_role
from tests.world import World

# Saturday 12 December 2026, 14:00 in Kaili: two weeks after the tests' clock.
SATURDAY_2PM = "2026-12-12T14:00:00+08:00"


def event_body(world: World, **fields: Any) -> dict[str, Any]:
    return {"station_id": world.station.id, "theme": "birthday_party", "starts_at": SATURDAY_2PM, **fields}


async def add_signup(
    session: AsyncSession,
    *,
    event_id: int,
    role_id: int,
    person_id: int,
    status: SignupStatus,
    waitlist_seq: int | None = None,
    at: datetime = datetime(2026, 11, 28, tzinfo=UTC),
) -> Signup:
    """A sign-up row as given; an invited or waiting one is counted on its role, a confirmed one
    is not: tests that add those set the role's ``confirmed_count`` themselves."""
    signup = Signup(
        event_id=event_id,
        role_id=role_id,
        person_id=person_id,
        status=status,
        source=SignupSource.self,
        waitlist_seq=waitlist_seq,
        created_at=at,
        updated_at=at,
    )
    session.add(signup)
    await session.flush()
    if status is not SignupStatus.confirmed:
        await count_on_role(session, role_id, status)
    return signup
