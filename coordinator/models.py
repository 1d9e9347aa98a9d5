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
from coordinator.notify.models import ChannelToken, DeliveryReceipt, Notification, WechatSubscription
from coordinator.people.models import Person, PersonTerm, Resident, ResidentCategoryRow, VocabularyTerm
from coordinator.records.models import Certificate, PersonalDataDownload, PersonIdentity, RecordEntry
from coordinator.regions.models import Region, RegionAncestor
from coordinator.stations.models import Organization, Station
from coordinator.stats.models import (
    EventPersonRollup,
    EventResidentRollup,
    EventRollup,
    StatsCell,
    StatsCellMember,
)
from coordinator.supervision.models import SharedCases, SupervisionFinding, SupervisionVisit
from coordinator.training.models import Course, CourseSession, Enrolment
from coordinator.visits.models import FollowUp, VisitChecklist, VisitPolicy, VisitRecord, VisitStop

__all__ = [
    "Attendance",
    "AttendanceAudit",
    "Base",
    "Case",
    "CaseEntry",
    "CaseRead",
    "Certificate",
    "ChannelToken",
    "Course",
    "CourseSession",
    "CustomTheme",
    "DeliveryReceipt",
    "Enrolment",
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
    "PersonIdentity",
    "PersonTerm",
    "PersonalDataDownload",
    "PlaceConfirmation",
    "RecordEntry",
    "Region",
    "RegionAncestor",
    "Resident",
    "ResidentCategoryRow",
    "ServiceHeadcount",
    "ServiceRecord",
    "SharedCases",
    "Signup",
    "SmsReply",
    "Station",
    "StationMatchingWeights",
    "StatsCell",
    "StatsCellMember",
    "SupervisionFinding",
    "SupervisionVisit",
    "User",
    "UserStation",
    "VisitChecklist",
    "VisitPolicy",
    "VisitRecord",
    "VisitStop",
    "VocabularyTerm",
    "WechatSubscription",
]
