"""Filling and recording an activity from its page: invite, accept matching proposals, the roster
of who came, and the residents served."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.roster import record_roster
from coordinator.attendance.schemas import RosterIn, RosterRecord, ServedIn
from coordinator.attendance.served import record_served
from coordinator.errors import Invalid
from coordinator.events import service
from coordinator.events.models import EventStatus, SignupSource, SignupStatus
from coordinator.events.signups import invitations
from coordinator.events.signups.service import list_signups
from coordinator.fields import Id
from coordinator.matching.apply import apply_for_event
from coordinator.matching.schemas import ApplyIn, ApplyMode, ChosenProposal
from coordinator.people.service import get_person
from coordinator.web.context import FormDep, StaffDep, act, clock_of, settings_of
from coordinator.web.scope import integer, text

router = APIRouter(include_in_schema=False)
ROSTER_LIMIT = 500


def _page(event_id: int) -> str:
    return f"/web/events/{event_id}"


@router.post("/web/events/{event_id}/invite")
async def invite(request: Request, event_id: Id, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> None:
        event = await service.get_event_for(session, viewer.principal, event_id)
        person = await get_person(
            session=session, principal=viewer.principal, person_id=integer(form, "person_id")
        )
        role_id = integer(form, "role_id") if text(form, "role_id") else None
        await invitations.invite(
            session,
            clock_of(request),
            settings_of(request),
            event_id=event.id,
            person_id=person.id,
            role_id=role_id,
            source=SignupSource.organizer,
        )

    return await act(request, work, back=_page(event_id), flash="event.invited")


def _chosen(values: list[str]) -> list[ChosenProposal]:
    chosen = []
    for value in values:
        person, _, role = value.partition(":")
        if not (person.isdigit() and role.isdigit()):
            raise Invalid("匹配建议无效", "Invalid proposal", field="proposal")
        chosen.append(ChosenProposal(person_id=int(person), role_id=int(role)))
    if not chosen:
        raise Invalid("请至少选择一条建议", "Choose at least one proposal", field="proposal")
    return chosen


@router.post("/web/events/{event_id}/match")
async def apply_match(request: Request, event_id: Id, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> None:
        values = [v for v in form.getlist("proposal") if isinstance(v, str)]
        mode = ApplyMode.confirm if text(form, "mode") == "confirm" else ApplyMode.invite
        await apply_for_event(
            session=session,
            clock=clock_of(request),
            settings=settings_of(request),
            principal=viewer.principal,
            event_id=event_id,
            data=ApplyIn(proposals=_chosen(values), mode=mode),
        )

    return await act(request, work, back=_page(event_id), flash="event.matched")


@router.post("/web/events/{event_id}/roster")
async def save_roster(request: Request, event_id: Id, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    """One checkbox per confirmed person: ticked is present, unticked absent (idempotent)."""

    async def work(session: AsyncSession) -> None:
        event = await service.get_event_for(session, viewer.principal, event_id)
        if event.status not in (EventStatus.published, EventStatus.completed):
            raise Invalid("活动未发布，不能点名", "The activity is not published", code="event_not_open")
        rows, _ = await list_signups(
            session,
            event_id=event.id,
            status=SignupStatus.confirmed,
            role_id=None,
            limit=ROSTER_LIMIT,
            cursor=None,
        )
        present = {int(v) for v in form.getlist("present") if isinstance(v, str) and v.isdigit()}
        records = [RosterRecord(person_id=s.person_id, present=s.person_id in present) for s in rows]
        if not records:
            raise Invalid("没有已确认的人员", "Nobody is confirmed", field="present")
        await record_roster(
            session=session,
            clock=clock_of(request),
            principal=viewer.principal,
            event_id=event.id,
            data=RosterIn(records=records),
        )

    return await act(request, work, back=_page(event_id), flash="event.roster_saved")


@router.post("/web/events/{event_id}/served")
async def save_served(request: Request, event_id: Id, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> None:
        resident_ids = [int(v) for v in form.getlist("resident") if isinstance(v, str) and v.isdigit()]
        headcount = integer(form, "headcount", default=0) if text(form, "headcount") else None
        await record_served(
            session=session,
            clock=clock_of(request),
            principal=viewer.principal,
            event_id=event_id,
            data=ServedIn(resident_ids=resident_ids, headcount=headcount),
        )

    return await act(request, work, back=_page(event_id), flash="event.served_saved")
