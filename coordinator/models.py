"""Imports every table so that the metadata (and Alembic) sees the whole schema."""

from coordinator.attendance.models import (
    Attendance,
    AttendanceAudit,
    OfflineRecord,
    ServiceHeadcount,
    ServiceRecord,
)
from coordinator.auth.models import LoginAttempt, OtpCode, User, UserStation
from coordinator.bus.models import OutboxDelivery, OutboxEvent
from coordinator.cases.models import Case, CaseEntry, CaseRead
from coordinator.db import Base
from coordinator.events.models import CustomTheme, Event, EventRole, EventSeries, Signup
from coordinator.matching.models import StationMatchingWeights
from coordinator.notify.confirmations.models import PlaceConfirmation, SmsReply
from coordinator.notify.models import ChannelToken, DeliveryReceipt, Notification
from coordinator.people.models import Person, PersonTerm, Resident, ResidentCategoryRow, VocabularyTerm
from coordinator.stations.models import Organization, Station
from coordinator.stats.models import (
    EventPersonRollup,
    EventResidentRollup,
    EventRollup,
    StatsCell,
    StatsCellMember,
)
from coordinator.visits.models import FollowUp, VisitChecklist, VisitPolicy, VisitRecord, VisitStop

__all__ = [
    "Attendance",
    "AttendanceAudit",
    "Base",
    "Case",
    "CaseEntry",
    "CaseRead",
    "ChannelToken",
    "CustomTheme",
    "DeliveryReceipt",
    "Event",
    "EventPersonRollup",
    "EventResidentRollup",
    "EventRole",
    "EventRollup",
    "EventSeries",
    "FollowUp",
    "LoginAttempt",
    "Notification",
    "OfflineRecord",
    "Organization",
    "OtpCode",
    "OutboxDelivery",
    "OutboxEvent",
    "Person",
    "PersonTerm",
    "PlaceConfirmation",
    "Resident",
    "ResidentCategoryRow",
    "ServiceHeadcount",
    "ServiceRecord",
    "Signup",
    "SmsReply",
    "Station",
    "StationMatchingWeights",
    "StatsCell",
    "StatsCellMember",
    "User",
    "UserStation",
    "VisitChecklist",
    "VisitPolicy",
    "VisitRecord",
    "VisitStop",
    "VocabularyTerm",
]
