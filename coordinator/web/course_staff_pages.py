"""The organizer's page of a training course: the course, its sessions (each leading to its event
page for check-in) and its enrolments, with approval, rejection and invitation forms. Every form
calls ``training.enrolment``, so the page and the API keep one set of rules; staff who may see the
course but not manage it get it read-only, others the 404 page as from the API.

A refused form answers the error page with the refusal's own 4xx status and message, and the
request's transaction rolls back: nothing of a refused change is stored."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from coordinator.deps import SessionDep
from coordinator.errors import not_found
from coordinator.fields import Id
from coordinator.training.classes import class_label
from coordinator.training.courses import get_course, may_manage, organizer_name
from coordinator.training.enrolment import answer, request_enrolment
from coordinator.training.models import EnrolmentSource
from coordinator.training.roster import invitable, roster
from coordinator.training.schemas import EnrolmentAction, EnrolmentIn
from coordinator.training.sessions import list_sessions
from coordinator.web.context import FormDep, StaffDep, clock_of, ok, redirect, render
from coordinator.web.scope import integer, shaped, text

router = APIRouter(include_in_schema=False)
CHOICES = 200  # people offered in the invitation form

# The organizer's decisions on an application, and the message each leaves on the page.
_DECISIONS = {EnrolmentAction.approve: "course.approved", EnrolmentAction.reject: "course.rejected"}


def course_page_path(course_id: int) -> str:
    return f"/web/training/courses/{course_id}"


@router.get("/web/training/courses/{course_id}", response_class=HTMLResponse)
async def course_page(request: Request, course_id: Id, viewer: StaffDep, session: SessionDep) -> HTMLResponse:
    course = await get_course(session, viewer.principal, course_id, manage=False)
    manages = await may_manage(session, viewer.principal, course)
    views = await list_sessions(session=session, principal=viewer.principal, course_id=course.id)
    groups = await roster(session=session, principal=viewer.principal, course_id=course.id) if manages else []
    taken = {line.enrolment.person_id for _, lines in groups for line in lines}
    return render(
        request,
        "training_course.html",
        viewer,
        course=course,
        organizer=await organizer_name(session, course),
        classes={code: class_label(code) for code in course.target_classes},
        sessions=[(view, ZoneInfo(view.zone)) for view in views],
        manages=manages,
        groups=groups,
        candidates=await invitable(session, course, taken, limit=CHOICES) if manages else [],
    )


@router.post("/web/training/courses/{course_id}/invite")
async def invite(
    request: Request, course_id: Id, viewer: StaffDep, session: SessionDep, form: FormDep
) -> RedirectResponse:
    data = shaped(
        EnrolmentIn, person_id=integer(form, "person_id"), trainee_class=text(form, "trainee_class")
    )
    await request_enrolment(
        session=session,
        clock=clock_of(request),
        principal=viewer.principal,
        course_id=course_id,
        data=data,
        source=EnrolmentSource.invitation,
    )
    return redirect(request, course_page_path(course_id), ok("course.invited"))


@router.post("/web/training/courses/{course_id}/enrolments/{person_id}/{action}")
async def decide(
    request: Request, course_id: Id, person_id: Id, action: str, viewer: StaffDep, session: SessionDep,
    form: FormDep,
) -> RedirectResponse:  # fmt: skip
    if action not in _DECISIONS:  # the person's own answers are theirs, on their page
        raise not_found("操作", "action", action)
    chosen = EnrolmentAction(action)
    await answer(
        session=session,
        clock=clock_of(request),
        principal=viewer.principal,
        course_id=course_id,
        person_id=person_id,
        action=chosen,
    )
    return redirect(request, course_page_path(course_id), ok(_DECISIONS[chosen]))
