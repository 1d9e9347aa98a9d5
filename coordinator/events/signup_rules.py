"""The rules a sign-up must pass, and the errors that name what failed.

The event and role rules are checked on rows read without locks; the person's rules (station,
requirements, and their other commitments: one live sign-up per event, no overlapping confirmed
events, monthly maximum) are checked by ``signups``/``waitlist`` while holding the person's row
lock, because only then is the person's set of confirmed sign-ups stable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    Subquery,
    and_,
    bindparam,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.driver_sql import Row
from coordinator.errors import Conflict, CoordinatorError, Invalid
from coordinator.events.models import (
    LIVE_SIGNUP_STATUSES,
    Event,
    EventRole,
    EventStatus,
    Signup,
    SignupStatus,
)
from coordinator.people.models import Person


@dataclass(frozen=True)
class Commitment:
    """A live sign-up of a person that another sign-up of theirs has to respect."""

    person_id: int
    event_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    status: SignupStatus


def event_not_open(event: Event) -> Conflict:
    return Conflict(
        "活动未发布或已开始，不能报名",
        f"Event {event.id} is not open for sign-ups (only published events that have not started are)",
        code="event_not_open",
    )


def check_event_open(event: Event, now: datetime) -> None:
    if event.status != EventStatus.published or event.starts_at <= now:
        raise event_not_open(event)


class RoleRef(NamedTuple):
    id: int
    name: str


def pick_role(roles: Sequence[RoleRef] | Sequence[EventRole], role_id: int | None) -> int:
    """The id of the role asked for; it may be left out only when the event has exactly one role.
    ``roles`` in the event's order (their names make the message)."""
    if role_id is None:
        if len(roles) == 1:
            return roles[0].id
        names = "、".join(r.name for r in roles)
        raise Invalid(
            f"该活动有多个岗位，请指定岗位：{names}",
            f"The event has several roles; say which one: {names}",
            code="role_required",
            field="role",
        )
    if any(role.id == role_id for role in roles):
        return role_id
    raise unknown_role(role_id)


def role_id_by_name_or_id(
    roles: Sequence[RoleRef] | Sequence[EventRole], role: int | str | None
) -> int | None:
    """The API accepts a role by id or by name; the services take ids."""
    if role is None or isinstance(role, int):
        return role
    for candidate in roles:
        if candidate.name == role:
            return candidate.id
    raise unknown_role(role)


def unknown_role(role: int | str) -> Invalid:
    return Invalid(
        f"活动没有该岗位：{role}", f"The event has no role {role}", code="unknown_role", field="role"
    )


def check_person_fits(event: Event, role: EventRole, person: Person) -> None:
    """The person belongs to the event's station, is active and meets the role's requirements."""
    if person.station_id != event.station_id:
        raise Invalid(
            "该人员不属于活动所在的服务站",
            f"Person {person.id} belongs to another station than event {event.id}",
            code="person_other_station",
            field="person_id",
        )
    if not person.is_active:
        raise Invalid(
            "该人员已停用", f"Person {person.id} is inactive", code="person_inactive", field="person_id"
        )
    # A person's terms are loaded only when the role asks for skills or languages.
    missing_skills = sorted(set(role.skills) - set(person.codes("skill"))) if role.skills else []
    missing_languages = sorted(set(role.languages) - set(person.codes("language"))) if role.languages else []
    party_required = role.party_members_only and not person.is_party_member
    if not (missing_skills or missing_languages or party_required):
        return
    zh: list[str] = []
    en: list[str] = []
    if missing_skills:
        zh.append("缺少技能：" + "、".join(missing_skills))
        en.append("missing skills: " + ", ".join(missing_skills))
    if missing_languages:
        zh.append("不会语言：" + "、".join(missing_languages))
        en.append("missing languages: " + ", ".join(missing_languages))
    if party_required:
        zh.append("该岗位仅限党员")
        en.append("the role is for Party members only")
    raise Invalid(
        f"不符合岗位「{role.name}」的要求（{'；'.join(zh)}）",
        f"Does not meet the requirements of role {role.name!r}: {'; '.join(en)}",
        code="requirements_not_met",
        field="person_id",
        details={
            "missing_skills": missing_skills,
            "missing_languages": missing_languages,
            "party_member_required": party_required,
        },
    )


def local_month(instant: datetime, zone: str) -> tuple[datetime, datetime, str]:
    """The calendar month (in the station's zone) holding ``instant``: UTC bounds and "YYYY-MM"."""
    tz = ZoneInfo(zone)
    local = instant.astimezone(tz)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start.astimezone(UTC), following.astimezone(UTC), f"{start.year:04d}-{start.month:02d}"


def _commitments_query(
    person_ids: Sequence[int], event: Event, zone: str
) -> Select[int, int, str, datetime, datetime, SignupStatus]:
    """Per person: any live sign-up for ``event`` and the confirmed sign-ups that could clash with
    it or count toward the monthly maximum of its month (cancelled events excluded)."""
    month_start, month_end, _ = local_month(event.starts_at, zone)
    window_start, window_end = min(month_start, event.starts_at), max(month_end, event.ends_at)
    return (
        select(Signup.person_id, Signup.event_id, Event.title, Event.starts_at, Event.ends_at, Signup.status)
        .join(Event, Event.id == Signup.event_id)
        .where(
            Signup.person_id.in_(person_ids),
            or_(
                and_(Signup.event_id == event.id, Signup.status.in_(LIVE_SIGNUP_STATUSES)),
                and_(
                    Signup.status == SignupStatus.confirmed,
                    Event.status != EventStatus.cancelled,
                    Event.starts_at < window_end,
                    Event.ends_at > window_start,
                ),
            ),
        )
    )


async def load_commitments(
    session: AsyncSession, person_ids: Sequence[int], event: Event, zone: str
) -> dict[int, list[Commitment]]:
    """Per person, the sign-ups of ``_commitments_query``."""
    rows = await session.execute(_commitments_query(person_ids, event, zone))
    found: dict[int, list[Commitment]] = defaultdict(list)
    for person_id, event_id, title, starts_at, ends_at, status in rows:
        found[person_id].append(
            Commitment(person_id, event_id, title, starts_at, ends_at, SignupStatus(status))
        )
    return found


# ``status IN (…)`` written out: an expanding IN is rendered again at every execution.
_IS_LIVE = or_(*(Signup.status == status for status in LIVE_SIGNUP_STATUSES))


def _person_commitments_statement() -> Select[int, int, str, datetime, datetime, str]:
    """``_commitments_query`` for one person, built once: parameters person_id, for_event_id,
    window_start, window_end (``commitment_parameters``); each row also names its sign-up. (Not
    ``event_id``: a statement that embeds this one and updates ``event_roles`` would take a
    parameter of that name as a new value of the column.)"""
    return (
        select(Signup.id, Signup.event_id, Event.title, Event.starts_at, Event.ends_at, Signup.status)
        .join(Event, Event.id == Signup.event_id)
        .where(
            Signup.person_id == bindparam("person_id"),
            or_(
                and_(Signup.event_id == bindparam("for_event_id"), _IS_LIVE),
                and_(
                    Signup.status == SignupStatus.confirmed,
                    Event.status != EventStatus.cancelled,
                    Event.starts_at < bindparam("window_end", type_=Event.starts_at.type),
                    Event.ends_at > bindparam("window_start", type_=Event.ends_at.type),
                ),
            ),
        )
    )


_PERSON_COMMITMENTS = _person_commitments_statement()


def commitment_parameters(person_id: int, event: Event, zone: str) -> dict[str, Any]:
    month_start, month_end, _ = local_month(event.starts_at, zone)
    return {
        "person_id": person_id,
        "for_event_id": event.id,
        "window_start": min(month_start, event.starts_at),
        "window_end": max(month_end, event.ends_at),
    }


def commitment_rows() -> Subquery:
    """PostgreSQL: the rows of ``_PERSON_COMMITMENTS`` (parameters of ``commitment_parameters``),
    their columns named ``commitment_…``, for a statement that reads them along with other rows
    (``placing.read_place``)."""
    mine = _PERSON_COMMITMENTS.subquery("mine")
    return select(*(column.label(f"commitment_{column.key}") for column in mine.c)).subquery("commitments")


async def person_commitments(session: AsyncSession, parameters: dict[str, Any]) -> list[Commitment]:
    """The person's commitments (``parameters`` from ``commitment_parameters``)."""
    rows: list[Any] = list(await session.execute(_PERSON_COMMITMENTS, parameters))
    person_id = parameters["person_id"]
    return [_commitment(person_id, *row[1:]) for row in rows]


def commitments_of(person_id: int, rows: Sequence[Row]) -> list[Commitment]:
    """The commitments in rows of ``commitment_rows``; rows whose ``commitment_id`` is NULL (an
    outer join's, when there are none) carry none."""
    return [
        _commitment(
            person_id,
            row["commitment_event_id"],
            row["commitment_title"],
            row["commitment_starts_at"],
            row["commitment_ends_at"],
            row["commitment_status"],
        )
        for row in rows
        if row["commitment_id"] is not None
    ]


def _commitment(
    person_id: int, event_id: int, title: str, starts_at: datetime, ends_at: datetime, status: str
) -> Commitment:
    return Commitment(person_id, event_id, title, starts_at, ends_at, SignupStatus(status))


def _commitments_and_invited_statement() -> Select[
    tuple[int, int | None, int | None, str | None, datetime | None, datetime | None, str | None]
]:
    """Built once, with the parameters of ``commitment_parameters`` and role_id."""
    invited = (
        select(func.count().label("invited"))
        .where(Signup.role_id == bindparam("role_id"), Signup.status == SignupStatus.invited)
        .subquery("invited")
    )
    mine = _PERSON_COMMITMENTS.subquery("mine")
    return select(invited.c.invited, *mine.c).select_from(invited.outerjoin(mine, true()))


# The same sign-ups as ``_commitments_query`` for one person, and the role's invitations.
_COMMITMENTS_AND_INVITED = _commitments_and_invited_statement()


async def commitments_and_invited(
    session: AsyncSession, person_id: int, event: Event, zone: str, role_id: int
) -> tuple[list[Commitment], int]:
    """The person's commitments and the role's unanswered invitations, in one round trip: call
    with the role and the person locked, so both are exact. The count is the outer row, so it
    comes back even when the person has no commitment (then the commitment columns are NULL)."""
    parameters = {**commitment_parameters(person_id, event, zone), "role_id": role_id}
    rows: list[Any] = list(await session.execute(_COMMITMENTS_AND_INVITED, parameters))
    commitments = [
        Commitment(person_id, other_event_id, title, starts_at, ends_at, SignupStatus(status))
        for _, _, other_event_id, title, starts_at, ends_at, status in rows
        if other_event_id is not None
    ]
    return commitments, int(rows[0][0])


def already_signed_up(event_id: int, person_id: int) -> Conflict:
    return Conflict(
        "该人员已报名此活动",
        f"Person {person_id} already has a sign-up for event {event_id}",
        code="already_signed_up",
        field="person_id",
    )


def check_not_signed_up(event: Event, person_id: int, commitments: Iterable[Commitment]) -> None:
    if any(c.event_id == event.id for c in commitments):
        raise already_signed_up(event.id, person_id)


def commitment_problem(
    event: Event, zone: str, commitments: Iterable[Commitment], max_per_month: int | None
) -> CoordinatorError | None:
    """Why confirming the person in ``event`` would break a rule: a clash or the monthly maximum."""
    others = [c for c in commitments if c.event_id != event.id and c.status == SignupStatus.confirmed]
    for other in sorted(others, key=lambda c: c.starts_at):
        if other.starts_at < event.ends_at and other.ends_at > event.starts_at:
            return _schedule_clash(other, zone)
    if max_per_month is None:
        return None
    month_start, month_end, label = local_month(event.starts_at, zone)
    in_month = sum(1 for c in others if month_start <= c.starts_at < month_end)
    if in_month < max_per_month:
        return None
    return Conflict(
        f"该人员 {label} 月已确认 {in_month} 场活动，达到每月上限 {max_per_month} 场",
        f"The person already has {in_month} confirmed events in {label}, "
        f"their monthly maximum of {max_per_month}",
        code="monthly_limit_reached",
        details={"month": label, "limit": max_per_month, "confirmed": in_month},
    )


def _schedule_clash(other: Commitment, zone: str) -> Conflict:
    tz = ZoneInfo(zone)
    starts, ends = other.starts_at.astimezone(tz), other.ends_at.astimezone(tz)
    when = f"{starts:%Y-%m-%d %H:%M}–{ends:%H:%M}"
    return Conflict(
        f"时间冲突：该人员已确认参加「{other.title}」（{when}）",
        f"Schedule clash: the person is confirmed for {other.title!r} ({when})",
        code="schedule_clash",
        details={
            "event_id": other.event_id,
            "title": other.title,
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
        },
    )
