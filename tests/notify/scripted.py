"""An in-memory channel that answers from a script, and quick ways to put due rows in place."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.notify.channels import Channel, OutboundMessage, SendResult
from coordinator.notify.planning import insert_once
from coordinator.notify.rendering import render
from coordinator.people.models import Person


class ScriptedChannel(Channel):
    name: ClassVar[str] = "scripted"

    def __init__(self, label: str, *answers: SendResult, delay: float = 0.0) -> None:
        self.label = label
        self.answers: deque[SendResult] = deque(answers)
        self.sent: list[OutboundMessage] = []
        self.delay = delay

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.answers:
            return self.answers.popleft()
        return SendResult.sent(f"{self.label}-{len(self.sent)}")

    @property
    def notification_ids(self) -> list[int]:
        return [m.notification_id for m in self.sent]


async def add_due(
    session: AsyncSession,
    person: Person,
    *,
    key: str,
    due: datetime,
    deadline: datetime | None = None,
    channel: str = "sms",
    fallback: list[str] | None = None,
    reason: str = "reminder",
) -> None:
    context = {"name": person.name, "title": "重阳节探访", "time": "12月6日（周日）10:00", "place": "村委会"}
    await insert_once(
        session,
        {
            "idempotency_key": f"{key}:{channel}",
            "plan_key": key,
            "station_id": person.station_id,
            "person_id": person.id,
            "reason": reason,
            "offset": "P1D",
            "channel": channel,
            "fallback_channels": fallback or [],
            "status": "pending",
            "due_at": due,
            "deadline": deadline,
            "attempts": 0,
            "next_attempt_at": due,
            "payload": render(reason, channel, person.phone, context),
            "created_at": due,
            "updated_at": due,
        },
    )
