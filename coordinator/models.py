"""Imports every table so that the metadata (and Alembic) sees the whole schema."""

from coordinator.auth.models import User, UserStation
from coordinator.bus.models import OutboxDelivery, OutboxEvent
from coordinator.db import Base
from coordinator.notify.models import ChannelToken
from coordinator.people.models import Person, PersonTerm, Resident, ResidentCategoryRow, VocabularyTerm
from coordinator.stations.models import Organization, Station

__all__ = [
    "Base",
    "ChannelToken",
    "Organization",
    "OutboxDelivery",
    "OutboxEvent",
    "Person",
    "PersonTerm",
    "Resident",
    "ResidentCategoryRow",
    "Station",
    "User",
    "UserStation",
    "VocabularyTerm",
]
