"""Imports every table so that the metadata (and Alembic) sees the whole schema."""

from coordinator.auth.models import User, UserStation
from coordinator.bus.models import OutboxDelivery, OutboxEvent
from coordinator.db import Base
from coordinator.events.models import CustomTheme, Event, EventRole, EventSeries, Signup
from coordinator.notify.models import ChannelToken
from coordinator.people.models import Person, PersonTerm, Resident, ResidentCategoryRow, VocabularyTerm
from coordinator.stations.models import Organization, Station

__all__ = [
    "Base",
    "ChannelToken",
    "CustomTheme",
    "Event",
    "EventRole",
    "EventSeries",
    "Organization",
    "OutboxDelivery",
    "OutboxEvent",
    "Person",
    "PersonTerm",
    "Resident",
    "ResidentCategoryRow",
    "Signup",
    "Station",
    "User",
    "UserStation",
    "VocabularyTerm",
]
