"""Confirm-or-release: a volunteer answers the day-before reminder (link or SMS reply keyword).

Confirm stores the answer; the person leaves the event's at-risk list. Release cancels the
sign-up through the sign-ups service (the first eligible waiting person is promoted and told in
the same transaction) and tells the organizer at once. An answer takes the role's lock and reads
the sign-up again under it, so racing answers are serialized (docs/concurrency.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role, User, UserStation
from coordinator.clock import Clock
from coordinator.errors import Conflict, CoordinatorError, Invalid
from coordinator.events.models import Event, EventRole, EventStatus, Signup, SignupStatus
from coordinator.events.service import load_event
from coordinator.events.signups.places import lock_role
from coordinator.events.signups.service import cancel_signup
from coordinator.notify import planning
from coordinator.notify.confirmations.links import confirm_deadline, signup_of_token
from coordinator.notify.confirmations.models import AnswerVia, PlaceAnswer, PlaceConfirmation
from coordinator.notify.models import NotificationReason
from coordinator.people.models import Person
from coordinator.settings import Settings

log = structlog.get_logger(__name__)


class Gone(CoordinatorError):
    status_code: ClassVar[int] = 410
    default_code: ClassVar[str] = "gone"


@dataclass(frozen=True)
class Place:
    """A sign-up as its confirmation link sees it."""

    signup: Signup
    event: Event
    zone: str
    answer: PlaceConfirmation | None

    def open_at(self, now: datetime) -> bool:
        return self.event.status == EventStatus.published and now < self.event.starts_at


def invalid_link() -> Invalid:
    return Invalid("确认链接无效", "The confirmation link is invalid", code="invalid_confirmation")


async def place_of_token(session: AsyncSession, settings: Settings, token: str) -> Place:
    signup_id = signup_of_token(settings, token)
    if signup_id is None:
        raise invalid_link()
    return await place_of_signup(session, signup_id)


async def place_of_signup(session: AsyncSession, signup_id: int) -> Place:
    signup = await session.get(Signup, signup_id)
    if signup is None:
        raise invalid_link()
    event, zone = await load_event(session, signup.event_id)
    answer = await session.scalar(select(PlaceConfirmation).where(PlaceConfirmation.signup_id == signup_id))
    return Place(signup, event, zone, answer)


async def _locked_place(session: AsyncSession, signup_id: int) -> tuple[Place, EventRole]:
    """Take the role's lock, then read the sign-up and its answer as they now are."""
    signup = await session.get(Signup, signup_id)
    if signup is None:
        raise invalid_link()
    role = await lock_role(session, signup.role_id)
    fresh = await session.scalar(
        select(Signup).where(Signup.id == signup_id).execution_options(populate_existing=True)
    )
    assert fresh is not None
    event, zone = await load_event(session, fresh.event_id)
    answer = await session.scalar(
        select(PlaceConfirmation)
        .where(PlaceConfirmation.signup_id == signup_id)
        .execution_options(populate_existing=True)
    )
    return Place(fresh, event, zone, answer), role


def _check_open(place: Place, now: datetime) -> None:
    if not place.open_at(now):
        raise Gone(
            "活动已开始、已取消或已结束，不能再确认或释放名额",
            "The event has started, was cancelled or is over: "
            "the place can no longer be confirmed or released",
            code="confirmation_closed",
        )


def _not_held(place: Place) -> Conflict:
    return Conflict(
        f"该报名当前不是正式名额（{place.signup.status}）",
        f"The sign-up does not hold a confirmed place ({place.signup.status})",
        code="place_not_held",
        details={"status": place.signup.status},
    )


def _record(
    session: AsyncSession, place: Place, answer: PlaceAnswer, via: AnswerVia, now: datetime
) -> PlaceConfirmation:
    row = place.answer
    if row is None:
        signup = place.signup
        row = PlaceConfirmation(
            signup_id=signup.id,
            event_id=signup.event_id,
            person_id=signup.person_id,
            station_id=place.event.station_id,
        )
        session.add(row)
    row.answer, row.via, row.answered_at = answer, via, now
    return row


async def confirm_place(
    session: AsyncSession, clock: Clock, *, signup_id: int, via: AnswerVia
) -> PlaceConfirmation:
    """The person will come. Repeating it changes nothing; after a release it is refused."""
    place, _ = await _locked_place(session, signup_id)
    if place.answer is not None and place.answer.answer == PlaceAnswer.released:
        raise Conflict(
            "名额已释放，如需参加请重新报名",
            "The place was released; sign up again to take part",
            code="place_released",
        )
    if place.answer is not None and place.answer.answer == PlaceAnswer.confirmed:
        return place.answer
    now = clock.now()
    _check_open(place, now)
    if place.signup.status != SignupStatus.confirmed:
        raise _not_held(place)
    answer = _record(session, place, PlaceAnswer.confirmed, via, now)
    await session.flush()
    return answer


async def release_place(
    session: AsyncSession, clock: Clock, settings: Settings, *, signup_id: int, via: AnswerVia
) -> PlaceConfirmation:
    """The person will not come: free the place (promoting the waitlist) and tell the organizer.
    Repeating it changes nothing; a release after a confirmation is allowed (plans change)."""
    place, role = await _locked_place(session, signup_id)
    if place.answer is not None and place.answer.answer == PlaceAnswer.released:
        return place.answer
    now = clock.now()
    _check_open(place, now)
    if place.signup.status != SignupStatus.confirmed:
        raise _not_held(place)
    signup = place.signup
    await cancel_signup(session, clock, event_id=signup.event_id, person_id=signup.person_id)
    answer = _record(session, place, PlaceAnswer.released, via, now)
    await session.flush()
    role = await lock_role(session, role.id)  # as the promotion left it
    await notify_organizers(session, clock, settings, place=place, role=role)
    return answer


async def organizer_recipients(session: AsyncSession, event: Event) -> list[Person]:
    """Whom a release is told to: the event's creator, when that staff account is linked to a
    person record (their phone/WeChat/email and consent apply); otherwise every station head and
    organizer of the station linked to a person. Staff accounts without a person record have no
    address to reach: they see releases on ``GET /events/{id}/at-risk``."""
    if event.created_by is not None:
        creator = await session.get(User, event.created_by)
        if creator is not None and creator.is_active and creator.person_id is not None:
            person = await session.get(Person, creator.person_id)
            if person is not None and person.is_active:
                return [person]
    rows = await session.scalars(
        select(Person)
        .join(User, User.person_id == Person.id)
        .join(UserStation, UserStation.user_id == User.id)
        .where(
            UserStation.station_id == event.station_id,
            User.role.in_((Role.station_head, Role.organizer)),
            User.is_active.is_(True),
            Person.is_active.is_(True),
        )
        .order_by(Person.id)
    )
    return list(rows)


async def notify_organizers(
    session: AsyncSession, clock: Clock, settings: Settings, *, place: Place, role: EventRole
) -> int:
    """Plan the release notice in this same transaction (urgent: it goes out at once)."""
    event, signup = place.event, place.signup
    volunteer = await session.get(Person, signup.person_id)
    facts = await planning.event_facts(session, settings, event.id)
    if facts is None or volunteer is None:
        return 0
    filled = (
        "候补志愿者已自动递补。"
        if role.confirmed_count >= role.count
        else f"岗位“{role.name}”还缺{role.count - role.confirmed_count}人，请及时补充。"
    )
    planned = 0
    recipients = await organizer_recipients(session, event)
    for organizer in recipients:
        # No signup_id: the sign-up's cancellation cancels its pending messages, not this one.
        planned += await planning.add_notification(
            session,
            clock,
            settings,
            plan_key=f"released:e{event.id}:s{signup.id}:p{organizer.id}",
            person=organizer,
            zone=facts.zone,
            reason=NotificationReason.released,
            due=clock.now(),
            deadline=event.starts_at,
            context=facts.context(organizer, volunteer=volunteer.name, filled=filled),
            event_id=event.id,
        )
    if not recipients:
        log.warning("place_released_no_organizer_address", event_id=event.id, signup_id=signup.id)
    return planned


def deadline_of(settings: Settings, event: Event) -> datetime:
    return confirm_deadline(settings, event.starts_at)
