"""A demo station's plan turned into table rows (plain mappings for bulk ``insert()``).

The plans refer to each other by position (the 3rd volunteer, the 7th activity); the loader
inserts a table, gets the new ids back in order, and hands them to the next table's rows here."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from coordinator.attendance.models import AttendanceMethod
from coordinator.demo.activities import ORGANIZER_KINDS, SERIES, ActivityPlan, DemoWindow, plan_activities
from coordinator.demo.catalog import DemoStation
from coordinator.demo.names import UniquePhones
from coordinator.demo.outcomes import AttendancePlan, ServedPlan, plan_attendance, plan_served
from coordinator.demo.residents import ResidentPlan, plan_residents
from coordinator.demo.staffing import Staffing, staff_activities
from coordinator.demo.volunteers import VolunteerPlan, plan_volunteers
from coordinator.domain_events import DomainEventType
from coordinator.events.models import EventStatus, SignupStatus
from coordinator.events.themes import BUILTIN_THEMES
from coordinator.people.vocabulary import TermKind

Row = dict[str, Any]


def station_rng(seed: int, station: DemoStation, part: str) -> random.Random:
    """An independent stream per station and part: a change to one part leaves the others alone."""
    return random.Random(f"{seed}/{station.code}/{part}")  # noqa: S311  (demo data, not secrets)


@dataclass
class StationRows:
    plan: DemoStation
    window: DemoWindow
    volunteers: list[VolunteerPlan]
    ledger: list[ResidentPlan]
    activities: list[ActivityPlan]
    staffing: Staffing
    attended: list[AttendancePlan]
    served: list[ServedPlan]
    opened_at: datetime  # the station started using the service a while before the demo year

    @property
    def station(self) -> Row:
        return {
            "name": self.plan.name,
            "code": self.plan.code,
            "timezone": self.window.zone.key,
            "address": self.plan.address,
            "created_at": self.opened_at,
        }

    def organizations(self, station_id: int) -> list[Row]:
        return [
            {"station_id": station_id, "name": name, "kind": kind, "created_at": self.opened_at}
            for name, kind in self.plan.organizations
        ]

    def people(self, station_id: int) -> list[Row]:
        rows = []
        for p in self.volunteers:
            joined = self.opened_at + timedelta(days=p.joined_days_before % 300)
            rows.append(
                {
                    "station_id": station_id,
                    "name": p.name,
                    "phone": p.phone,
                    "is_party_member": p.is_party_member,
                    "party_branch": p.party_branch,
                    "is_social_worker": p.is_social_worker,
                    "email": p.email,
                    "wechat_openid": p.wechat_openid,
                    "availability": p.availability,
                    "consent_sms": p.consent_sms,
                    "consent_wechat": p.consent_wechat,
                    "consent_email": p.consent_email,
                    "channel_order": p.channel_order,
                    "quiet_hours_start": p.quiet_hours[0],
                    "quiet_hours_end": p.quiet_hours[1],
                    "max_events_per_month": p.max_events_per_month,
                    "calendar_token_version": 0,
                    "qr_token_version": 0,
                    "is_active": True,
                    "created_at": joined,
                    "updated_at": joined,
                }
            )
        return rows

    def person_terms(self, person_ids: list[int]) -> list[Row]:
        return [
            {"person_id": person_id, "kind": kind, "code": code}
            for person_id, p in zip(person_ids, self.volunteers, strict=True)
            for kind, codes in ((TermKind.skill, p.skills), (TermKind.language, p.languages))
            for code in sorted(codes)
        ]

    def residents(self, station_id: int) -> list[Row]:
        rows = []
        for number, r in enumerate(self.ledger):
            registered = self.opened_at + timedelta(days=number % 200)
            rows.append(
                {
                    "station_id": station_id,
                    "name": r.name,
                    "birth_year": r.birth_year,
                    "birth_month": r.birth_month,
                    "birth_day": r.birth_day,
                    "birthday_is_lunar": r.birthday_is_lunar,
                    "birthday_leap_month": False,
                    "gender": "female" if r.female else "male",
                    "language": r.language,
                    "household": r.household,
                    "address": r.address,
                    "phone": r.phone,
                    "id_number": r.id_number,
                    "notes": r.notes,
                    "is_active": True,
                    "created_at": registered,
                    "updated_at": registered,
                }
            )
        return rows

    def resident_categories(self, resident_ids: list[int]) -> list[Row]:
        return [
            {"resident_id": resident_id, "category": category}
            for resident_id, r in zip(resident_ids, self.ledger, strict=True)
            for category in sorted(set(r.categories))
        ]

    def series(self, station_id: int, organization_ids: list[int]) -> tuple[list[Row], list[str]]:
        """The recurring activities; their occurrences up to the window's end exist already."""
        by_kind = self._organizations_by_kind(organization_ids)
        created = datetime.combine(self.window.first, time(9), tzinfo=self.window.zone) - timedelta(days=45)
        rows = []
        for plan in SERIES:
            theme = BUILTIN_THEMES[plan.theme]
            last_start = datetime.combine(
                self.window.last, time.fromisoformat(plan.start_time), self.window.zone
            )
            rows.append(
                {
                    "station_id": station_id,
                    "organization_id": _organizer(ORGANIZER_KINDS[plan.theme], by_kind),
                    "theme": plan.theme,
                    "title": plan.title,
                    "description": plan.description,
                    "location": self.plan.venues[plan.venue],
                    "rrule": plan.rrule,
                    "festival": plan.festival,
                    "starts_on": self.window.first,
                    "until": None,
                    "start_time": plan.start_time,
                    "duration_minutes": theme.duration_minutes,
                    "roles": [role.as_dict() for role in theme.roles],
                    "reminder_offsets": list(theme.reminder_offsets),
                    "target_categories": list(theme.target_categories),
                    "publish": True,
                    "materialized_until": last_start.astimezone(UTC),
                    "is_active": True,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        return rows, [plan.key for plan in SERIES]

    def events(
        self, station_id: int, organization_ids: list[int], organizer_id: int, series_ids: dict[str, int]
    ) -> list[Row]:
        by_kind = self._organizations_by_kind(organization_ids)
        return [self._event(a, station_id, by_kind, organizer_id, series_ids) for a in self.activities]

    def _organizations_by_kind(self, organization_ids: list[int]) -> dict[str, int]:
        by_kind: dict[str, int] = {}
        for (_, kind), org_id in zip(self.plan.organizations, organization_ids, strict=True):
            by_kind.setdefault(kind, org_id)
        return by_kind

    def _event(
        self,
        a: ActivityPlan,
        station_id: int,
        by_kind: dict[str, int],
        organizer_id: int,
        series: dict[str, int],
    ) -> Row:
        assert a.published_at is not None
        created = a.published_at - timedelta(hours=20)
        completed = min(a.ends_at + timedelta(minutes=5), self.window.now)
        completed_at = completed if a.status is EventStatus.completed else None
        theme = a.theme
        return {
            "station_id": station_id,
            "organization_id": _organizer(a.organization_kind, by_kind),
            "series_id": series[a.series] if a.series else None,
            # As the series materializer names an occurrence: its local date.
            "occurrence_key": a.local_date.isoformat() if a.series else None,
            "detached": False,
            "theme": theme,
            "title": a.title,
            "description": a.description,
            "location": a.location,
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "capacity": sum(role.count for role in a.roles),
            "status": a.status,
            "reminder_offsets": list(BUILTIN_THEMES[theme].reminder_offsets),
            "target_categories": list(a.served_categories),
            "cancel_reason": a.cancel_reason,
            "sequence": 1 if a.status is EventStatus.cancelled else 0,
            "created_by": organizer_id,
            "created_at": created,
            "updated_at": a.cancelled_at or completed_at or a.published_at,
            "published_at": a.published_at,
            "cancelled_at": a.cancelled_at,
            "completed_at": completed_at,
        }

    def roles(self, event_ids: list[int]) -> tuple[list[Row], list[tuple[int, int]]]:
        rows, keys = [], []
        for a_index, (event_id, a) in enumerate(zip(event_ids, self.activities, strict=True)):
            for r_index, role in enumerate(a.roles):
                tally = self.staffing.tallies.get((a_index, r_index))
                rows.append(
                    {
                        **role.as_dict(),
                        "event_id": event_id,
                        "position": r_index,
                        "confirmed_count": tally.confirmed if tally else 0,
                        "waitlisted_count": tally.waitlisted if tally else 0,
                        "next_waitlist_seq": tally.next_waitlist_seq if tally else 1,
                    }
                )
                keys.append((a_index, r_index))
        return rows, keys

    def signups(
        self, event_ids: list[int], role_ids: dict[tuple[int, int], int], person_ids: list[int]
    ) -> list[Row]:
        return [
            {
                "event_id": event_ids[s.activity],
                "role_id": role_ids[(s.activity, s.role)],
                "person_id": person_ids[s.person],
                "status": s.status,
                "source": s.source,
                "waitlist_seq": s.waitlist_seq,
                "invitation_expires_at": None,
                "created_at": s.created_at,
                "updated_at": s.cancelled_at or s.created_at,
                "confirmed_at": s.created_at if s.status is SignupStatus.confirmed else None,
                "cancelled_at": s.cancelled_at,
            }
            for s in self.staffing.signups
        ]

    def outbox(self, station_id: int, event_ids: list[int], now: datetime) -> list[Row]:
        """``EventPublished`` for each upcoming published activity: its reminders get planned."""
        return [
            {
                "event_type": DomainEventType.event_published,
                "aggregate_type": "event",
                "aggregate_id": event_id,
                "station_id": station_id,
                "payload": {
                    "event_id": event_id,
                    "station_id": station_id,
                    "starts_at": a.starts_at.isoformat(),
                    "ends_at": a.ends_at.isoformat(),
                },
                "occurred_at": now,
                "fanned_out": False,
            }
            for event_id, a in zip(event_ids, self.activities, strict=True)
            if a.status is EventStatus.published and a.starts_at > now
        ]

    def attendance(
        self, station_id: int, event_ids: list[int], person_ids: list[int], recorder: int
    ) -> list[Row]:
        rows = []
        for at in self.attended:
            activity = self.activities[at.activity]
            rows.append(
                {
                    "event_id": event_ids[at.activity],
                    "person_id": person_ids[at.person],
                    "station_id": station_id,
                    "status": at.status,
                    "method": at.method,
                    "walk_in": False,
                    "checked_in_at": at.checked_in_at,
                    "checked_out_at": at.checked_out_at,
                    "minutes": at.minutes(activity),
                    "minutes_overridden": False,
                    "approved": True,
                    "approved_by": None,
                    "approved_at": None,
                    # A QR check-in is the volunteer's own scan; a roster tick is the organizer's.
                    "recorded_by": None if at.method is AttendanceMethod.qr else recorder,
                    "client_id": None,
                    "note": None,
                    "created_at": at.recorded_at,
                    "updated_at": at.recorded_at,
                }
            )
        return rows

    def service_records(
        self, station_id: int, event_ids: list[int], resident_ids: list[int], recorder: int
    ) -> list[Row]:
        return [
            {
                "event_id": event_ids[s.activity],
                "resident_id": resident_ids[r],
                "station_id": station_id,
                "recorded_by": recorder,
                "created_at": self.activities[s.activity].ends_at,
            }
            for s in self.served
            for r in s.residents
        ]

    def headcounts(self, station_id: int, event_ids: list[int], recorder: int) -> list[Row]:
        return [
            {
                "event_id": event_ids[s.activity],
                "station_id": station_id,
                "headcount": s.headcount,
                "recorded_by": recorder,
                "updated_at": self.activities[s.activity].ends_at,
            }
            for s in self.served
            if s.headcount > 0
        ]


def _organizer(kinds: tuple[str, ...], by_kind: dict[str, int]) -> int | None:
    return next((by_kind[kind] for kind in kinds if kind in by_kind), None)


def build_station_rows(station: DemoStation, *, seed: int, window: DemoWindow) -> StationRows:
    phones = UniquePhones(station_rng(seed, station, "phones"))
    volunteers = plan_volunteers(station, station_rng(seed, station, "volunteers"), phones)
    today = window.now.astimezone(window.zone).date()
    ledger = plan_residents(station, station_rng(seed, station, "residents"), phones, today)
    activities = plan_activities(station, station_rng(seed, station, "activities"), window)
    staffing = staff_activities(activities, volunteers, station_rng(seed, station, "signups"), window.now)
    outcomes = station_rng(seed, station, "outcomes")
    return StationRows(
        plan=station,
        window=window,
        volunteers=volunteers,
        ledger=ledger,
        activities=activities,
        staffing=staffing,
        attended=plan_attendance(activities, staffing, outcomes),
        served=plan_served(activities, ledger, outcomes),
        opened_at=datetime.combine(window.first, datetime.min.time(), tzinfo=window.zone)
        - timedelta(days=400),
    )
