"""A station, its volunteers and events, and shortcuts to the real services and the relay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from coordinator.clock import FixedClock
from coordinator.db import transaction
from coordinator.events import lifecycle
from coordinator.events.models import Event, SignupSource
from coordinator.events.signups.service import cancel_signup
from coordinator.notify.models import Notification
from coordinator.people.models import Person
from coordinator.stations.models import Station
from tests.factories import create_event, create_person, create_station, sign_up


@dataclass
class NotifyWorld:
    app: FastAPI
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: FixedClock
    station: Station

    @classmethod
    async def create(cls, app: FastAPI, clock: FixedClock) -> NotifyWorld:
        maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
        async with transaction(maker) as session:
            station = await create_station(session, clock)
        return cls(app=app, sessionmaker=maker, clock=clock, station=station)

    async def person(self, **fields: Any) -> Person:
        async with transaction(self.sessionmaker) as session:
            return await create_person(session, self.clock, self.station, **fields)

    async def event(self, **fields: Any) -> Event:
        async with transaction(self.sessionmaker) as session:
            return await create_event(session, self.clock, self.station, **fields)

    async def event_starting_at(self, starts_at: datetime, **fields: Any) -> Event:
        return await self.event(starts_in=starts_at - self.clock.now(), **fields)

    async def sign_up(self, event: Event, person: Person) -> int:
        async with transaction(self.sessionmaker) as session:
            signup = await sign_up(
                session,
                self.clock,
                event_id=event.id,
                person_id=person.id,
                role_id=None,
                source=SignupSource.self,
            )
            return signup.id

    async def cancel_signup(self, event: Event, person: Person) -> None:
        async with transaction(self.sessionmaker) as session:
            await cancel_signup(session, self.clock, event_id=event.id, person_id=person.id)

    async def reschedule(self, event: Event, shift: timedelta) -> None:
        async with transaction(self.sessionmaker) as session:
            loaded = await self._load(session, event.id)
            await lifecycle.reschedule_event(
                session, self.clock, event=loaded, starts_at=loaded.starts_at + shift
            )

    async def cancel(self, event: Event, reason: str = "天气原因") -> None:
        async with transaction(self.sessionmaker) as session:
            loaded = await self._load(session, event.id)
            await lifecycle.cancel_event(session, self.clock, event=loaded, reason=reason)

    async def _load(self, session: AsyncSession, event_id: int) -> Event:
        stmt = select(Event).where(Event.id == event_id).options(selectinload(Event.roles))
        return (await session.scalars(stmt.with_for_update())).one()

    async def deliver_events(self) -> int:
        """Run the relay until every domain event reached its handlers (our planners included)."""
        attempted: int = await self.app.state.relay.drain()
        return attempted

    async def notifications(self, **filters: Any) -> list[Notification]:
        async with self.sessionmaker() as session:
            stmt = select(Notification).filter_by(**filters).order_by(Notification.id)
            return list(await session.scalars(stmt))
