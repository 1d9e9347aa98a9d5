"""The rules a sign-up obeys, one function each, and the errors that name what failed.

The functions are pure: the caller (``service``, ``waitlist``, ``invitations``) reads what they
judge with the role and the person locked, so that what they answer still holds at the commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from coordinator.errors import Conflict, CoordinatorError, Invalid
from coordinator.events.models import Event, EventRole, EventStatus, SignupStatus
from coordinator.events.signups.commitments import Commitment, local_month
from coordinator.events.themes import GATHERING_THEMES
from coordinator.people.models import Person


def event_not_open(event: Event) -> Conflict:
    return Conflict(
        "活动未发布或已开始，不能报名",
        f"Event {event.id} is not open for sign-ups (only published events that have not started are)",
        code="event_not_open",
    )


def is_open(event: Event, now: datetime) -> bool:
    """Published and not started: the only events people may join or be promoted in."""
    return event.status == EventStatus.published and event.starts_at > now


def check_event_open(event: Event, now: datetime) -> None:
    if not is_open(event, now):
        raise event_not_open(event)


def unknown_role(role: int | str) -> Invalid:
    return Invalid(
        f"活动没有该岗位：{role}", f"The event has no role {role}", code="unknown_role", field="role"
    )


def pick_role(roles: Sequence[EventRole], role_id: int | None) -> int:
    """The id of the role asked for; it may be left out only when the event has exactly one role."""
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


def role_id_by_name_or_id(roles: Sequence[EventRole], role: int | str | None) -> int | None:
    """The API accepts a role by id or by name; the services take ids."""
    if role is None or isinstance(role, int):
        return role
    for candidate in roles:
        if candidate.name == role:
            return candidate.id
    raise unknown_role(role)


def places_held(role: EventRole) -> int:
    """An unanswered invitation holds a place, as a confirmed sign-up does."""
    return role.confirmed_count + role.invited_count


def free_places(role: EventRole) -> int:
    """Places nobody holds."""
    return role.count - places_held(role)


def check_requirements(event: Event, role: EventRole, person: Person) -> None:
    """The person belongs to the event's station (unless the event gathers several stations), is
    active and meets the role's requirements (skills and languages: ``person.terms`` loaded when
    the role asks for any)."""
    if person.station_id != event.station_id and event.theme not in GATHERING_THEMES:
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


def already_signed_up(event_id: int, person_id: int) -> Conflict:
    return Conflict(
        "该人员已报名此活动",
        f"Person {person_id} already has a sign-up for event {event_id}",
        code="already_signed_up",
        field="person_id",
    )


def check_one_live_signup(event: Event, person_id: int, commitments: Iterable[Commitment]) -> None:
    """At most one live sign-up per person and event (the partial unique index backs it)."""
    if any(c.event_id == event.id for c in commitments):
        raise already_signed_up(event.id, person_id)


def _confirmed_elsewhere(event: Event, commitments: Iterable[Commitment]) -> list[Commitment]:
    return [c for c in commitments if c.event_id != event.id and c.status == SignupStatus.confirmed]


def schedule_clash(event: Event, zone: str, commitments: Iterable[Commitment]) -> Conflict | None:
    """The first confirmed event of the person that overlaps ``event``, as an error."""
    for other in sorted(_confirmed_elsewhere(event, commitments), key=lambda c: c.starts_at):
        if other.starts_at < event.ends_at and other.ends_at > event.starts_at:
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
    return None


def monthly_maximum_reached(
    event: Event, zone: str, commitments: Iterable[Commitment], max_per_month: int | None
) -> Conflict | None:
    """The person already has their maximum of confirmed events in ``event``'s local month."""
    if max_per_month is None:
        return None
    month_start, month_end, label = local_month(event.starts_at, zone)
    in_month = sum(
        1 for c in _confirmed_elsewhere(event, commitments) if month_start <= c.starts_at < month_end
    )
    if in_month < max_per_month:
        return None
    return Conflict(
        f"该人员 {label} 月已确认 {in_month} 场活动，达到每月上限 {max_per_month} 场",
        f"The person already has {in_month} confirmed events in {label}, "
        f"their monthly maximum of {max_per_month}",
        code="monthly_limit_reached",
        details={"month": label, "limit": max_per_month, "confirmed": in_month},
    )


def commitment_problem(
    event: Event, zone: str, commitments: Iterable[Commitment], max_per_month: int | None
) -> CoordinatorError | None:
    """Why confirming the person in ``event`` would break a rule: a clash or the monthly maximum."""
    commitments = list(commitments)
    return schedule_clash(event, zone, commitments) or monthly_maximum_reached(
        event, zone, commitments, max_per_month
    )
