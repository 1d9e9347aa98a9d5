"""The one source of "now". Services receive a ``Clock`` so tests can pin time."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to; for tests and the demo loader."""

    def __init__(self, instant: datetime) -> None:
        self._instant = instant.astimezone(UTC)

    def now(self) -> datetime:
        return self._instant

    def set(self, instant: datetime) -> None:
        self._instant = instant.astimezone(UTC)


def local_or_none(instant: datetime | None, zone: tzinfo) -> datetime | None:
    """A stored UTC instant as the station's wall-clock time; answers keep absent times absent."""
    return instant.astimezone(zone) if instant is not None else None
