"""Routes of confirm-or-release (no login: the link is the credential), the at-risk list, and
the providers' SMS reply callbacks.

A browser that opens the link gets a small page with the two buttons (a plain form post, so it
works on the simplest phone browsers); API clients get JSON from the same addresses.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, Template
from pydantic import ValidationError

from coordinator.clock import local_or_none
from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES, CoordinatorError, Invalid, not_found
from coordinator.events.models import Event
from coordinator.fields import Id
from coordinator.notify.callbacks import CALLBACK_TOKEN_CHECK, MAX_PUSHED_ITEMS
from coordinator.notify.confirmations import service, sms_replies
from coordinator.notify.confirmations.at_risk import at_risk
from coordinator.notify.confirmations.models import AnswerVia
from coordinator.notify.confirmations.schemas import (
    ALIYUN_REPLY_EXAMPLE,
    TENCENT_REPLY_EXAMPLE,
    AliyunReplyAnswer,
    AtRiskOut,
    AtRiskPersonOut,
    ConfirmationAnswer,
    ConfirmationOut,
    ReleasedPlaceOut,
    TencentReplyAnswer,
)
from coordinator.notify.planning import station_zone
from coordinator.notify.rendering import local_time
from coordinator.people.models import Person
from coordinator.settings import Settings

router = APIRouter(tags=["confirmations"], responses=ERROR_RESPONSES)

_FORM = "application/x-www-form-urlencoded"


@cache
def _page() -> Template:
    loader = FileSystemLoader(Path(__file__).parent / "templates")
    return Environment(loader=loader, autoescape=True).get_template("confirmation_page.html")


def _out(place: service.Place, settings: Settings, *, person_name: str, now_open: bool) -> ConfirmationOut:
    zone = ZoneInfo(place.zone)
    role = next((r.name for r in place.event.roles if r.id == place.signup.role_id), "")
    answer = place.answer
    return ConfirmationOut(
        signup_id=place.signup.id,
        event_id=place.event.id,
        event_title=place.event.title,
        starts_at=place.event.starts_at.astimezone(zone),
        location=place.event.location,
        role=role,
        person_name=person_name,
        signup_status=place.signup.status,
        answer=str(answer.answer) if answer is not None else None,
        answered_at=answer.answered_at.astimezone(zone) if answer is not None else None,
        confirm_by=service.deadline_of(settings, place.event).astimezone(zone),
        can_answer=now_open and place.signup.status == "confirmed",
    )


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def _html(out: ConfirmationOut, zone: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    local = ZoneInfo(zone)
    body = _page().render(
        place=out,
        starts=local_time(out.starts_at, local),
        confirm_by=local_time(out.confirm_by, local),
        error=error,
    )
    return HTMLResponse(body, status_code=status)


async def _place_out(
    session: SessionDep, clock: ClockDep, settings: Settings, signup_id: int
) -> tuple[ConfirmationOut, str]:
    place = await service.place_of_signup(session, signup_id)
    person = await session.get(Person, place.signup.person_id)
    name = person.name if person is not None else ""
    return _out(place, settings, person_name=name, now_open=place.open_at(clock.now())), place.zone


@router.get(
    "/confirmations/{token}",
    response_model=ConfirmationOut,
    summary="Show a place to confirm or release (no login; browsers get a page)",
    responses={200: {"content": {"text/html": {}}}},
)
async def show_confirmation(
    token: str, request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Any:
    place = await service.place_of_token(session, settings, token)
    out, zone = await _place_out(session, clock, settings, place.signup.id)
    return _html(out, zone) if _wants_html(request) else out


@router.post(
    "/confirmations/{token}",
    response_model=ConfirmationOut,
    summary="Confirm (I will come) or release (free my place) — no login",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": ConfirmationAnswer.model_json_schema()},
                _FORM: {"schema": ConfirmationAnswer.model_json_schema()},
            },
            "required": True,
        }
    },
)
async def answer_confirmation(
    token: str, request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Any:
    """A release frees the place at once: the first waiting person is promoted and told, and the
    organizer is told. Repeating an answer changes nothing; confirming after a release is refused."""
    place = await service.place_of_token(session, settings, token)
    from_form = request.headers.get("content-type", "").startswith(_FORM)
    answer = await _read_answer(request, from_form)
    try:
        # A savepoint: when the page shows a refusal instead of raising, nothing of it is kept.
        async with session.begin_nested():
            if answer.answer == "confirm":
                await service.confirm_place(session, clock, signup_id=place.signup.id, via=AnswerVia.link)
            else:
                await service.release_place(
                    session, clock, settings, signup_id=place.signup.id, via=AnswerVia.link
                )
    except CoordinatorError as exc:
        if not from_form:
            raise
        out, zone = await _place_out(session, clock, settings, place.signup.id)
        return _html(out, zone, error=exc.message, status=exc.status_code)
    out, zone = await _place_out(session, clock, settings, place.signup.id)
    return _html(out, zone) if from_form else out


async def _read_answer(request: Request, from_form: bool) -> ConfirmationAnswer:
    try:
        raw: Any = dict(await request.form()) if from_form else await request.json()
        return ConfirmationAnswer.model_validate(raw)
    except (ValidationError, ValueError) as exc:
        raise Invalid(
            "请选择确认参加（confirm）或释放名额（release）",
            "answer must be confirm or release",
            code="invalid_answer",
            field="answer",
        ) from exc


@router.get("/events/{event_id}/at-risk", response_model=AtRiskOut, summary="People at risk of not coming")
async def event_at_risk(
    event_id: Id,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    include_awaiting: Annotated[
        bool, Query(description="Also before the deadline: everyone who has not answered yet")
    ] = False,
) -> AtRiskOut:
    """Confirmed people who have not confirmed by the deadline (``confirm_by``), with their past
    no-shows, most no-shows first; and the places released so far."""
    principal.require_staff()
    event = await session.get(Event, event_id)
    if event is None or not principal.can_access(event.station_id):
        raise not_found("活动", "event", event_id)
    zone = await station_zone(session, event.station_id)
    report = await at_risk(session, settings, event=event, now=clock.now(), include_awaiting=include_awaiting)
    return AtRiskOut(
        event_id=event.id,
        confirm_by=report.confirm_by.astimezone(zone),
        deadline_passed=report.deadline_passed,
        confirmed=report.confirmed,
        awaiting=report.awaiting,
        items=[
            AtRiskPersonOut(
                signup_id=p.signup_id,
                person_id=p.person_id,
                name=p.name,
                phone=p.phone,
                role=p.role,
                confirmed_at=local_or_none(p.confirmed_at, zone),
                no_shows=p.no_shows,
            )
            for p in report.people
        ],
        released=[
            ReleasedPlaceOut(
                signup_id=r.signup_id,
                person_id=r.person_id,
                name=r.name,
                role=r.role,
                released_at=r.released_at.astimezone(zone),
                via=r.via,
            )
            for r in report.released
        ],
    )


def _bad_reply(exc: Exception) -> Invalid:
    return Invalid("上行短信格式有误", f"Malformed SMS reply: {exc}", code="invalid_reply")


@router.post(
    "/notify/replies/aliyun",
    response_model=AliyunReplyAnswer,
    dependencies=CALLBACK_TOKEN_CHECK,
    summary="Aliyun SMS replies (SmsUp)",
)
async def aliyun_replies(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    items: Annotated[
        list[dict[str, Any]], Body(examples=[ALIYUN_REPLY_EXAMPLE], max_length=MAX_PUSHED_ITEMS)
    ],
) -> AliyunReplyAnswer:
    """Aliyun pushes a JSON array of replies and retries until answered ``{"code": 0}``."""
    try:
        replies = sms_replies.parse_aliyun(items)
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_reply(exc) from exc
    await sms_replies.handle_replies(session, clock, settings, replies)
    return AliyunReplyAnswer()


@router.post(
    "/notify/replies/tencent",
    response_model=TencentReplyAnswer,
    dependencies=CALLBACK_TOKEN_CHECK,
    summary="Tencent SMS reply callback",
)
async def tencent_reply(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    item: Annotated[dict[str, Any], Body(examples=[TENCENT_REPLY_EXAMPLE])],
) -> TencentReplyAnswer:
    """Tencent posts one reply per request and expects ``{"result": 0}``."""
    try:
        reply = sms_replies.parse_tencent(item)
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_reply(exc) from exc
    await sms_replies.handle_replies(session, clock, settings, [reply])
    return TencentReplyAnswer()
