"""Imports every table so that the metadata (and Alembic) sees the whole schema."""

from coordinator.auth.models import User, UserStation
from coordinator.bus.models import OutboxDelivery, OutboxEvent
from coordinator.db import Base
from coordinator.people.models import Person
from coordinator.stations.models import Organization, Station

__all__ = [
    "Base",
    "Organization",
    "OutboxDelivery",
    "OutboxEvent",
    "Person",
    "Station",
    "User",
    "UserStation",
]
