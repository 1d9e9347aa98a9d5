"""The volunteer's page of a training course, where a course notice leads: the course, its
sessions and the person's enrolment, with the answers open to them. Each answer goes through
``training.enrolment``, so the page and the API keep one set of rules."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.deps import SessionDep
from coordinator.errors import not_found
from coordinator.fields import Id
from coordinator.training.classes import class_label
from coordinator.training.courses import course_path, get_course, organizer_name
from coordinator.training.enrolment import answer, enrolment_of, request_enrolment
from coordinator.training.models import Enrolment, EnrolmentSource
from coordinator.training.schemas import EnrolmentAction, EnrolmentIn
from coordinator.training.sessions import list_sessions
from coordinator.web.context import FormDep, VolunteerDep, act, clock_of, render
from coordinator.web.scope import text

router = APIRouter(include_in_schema=False)

# The answers a trainee gives themselves, and the message each leaves on the page.
_ANSWERS = {
    EnrolmentAction.accept: "m.accepted",
    EnrolmentAction.decline: "m.declined",
    EnrolmentAction.withdraw: "course.withdrawn",
}


@router.get("/web/m/courses/{course_id}", response_class=HTMLResponse)
async def course_page(
    request: Request, course_id: Id, viewer: VolunteerDep, session: SessionDep
) -> HTMLResponse:
    # Seen as the API shows it to the person: a course they may not see answers 404.
    course = await get_course(session, viewer.principal, course_id, manage=False)
    views = await list_sessions(session=session, principal=viewer.principal, course_id=course.id)
    return render(
        request,
        "m_course.html",
        viewer,
        course=course,
        organizer=await organizer_name(session, course),
        sessions=[(view.event, view.row.online, ZoneInfo(view.zone)) for view in views],
        mine=await enrolment_of(session, course_id=course.id, person_id=viewer.person_id),
        classes={code: class_label(code) for code in course.target_classes},
    )


@router.post("/web/m/courses/{course_id}/apply")
async def apply(request: Request, course_id: Id, viewer: VolunteerDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> Enrolment:
        return await request_enrolment(
            session=session,
            clock=clock_of(request),
            principal=viewer.principal,
            course_id=course_id,
            data=EnrolmentIn(person_id=viewer.person_id, trainee_class=text(form, "trainee_class")),
            source=EnrolmentSource.application,
        )

    return await act(request, work, back=course_path(course_id), flash="course.applied")


@router.post("/web/m/courses/{course_id}/{action}")
async def answer_course(
    request: Request, course_id: Id, action: str, viewer: VolunteerDep, form: FormDep
) -> RedirectResponse:
    if action not in _ANSWERS:  # the organizer's answers are the organizer's, through the API
        raise not_found("操作", "action", action)
    chosen = EnrolmentAction(action)

    async def work(session: AsyncSession) -> Enrolment:
        return await answer(
            session=session,
            clock=clock_of(request),
            principal=viewer.principal,
            course_id=course_id,
            person_id=viewer.person_id,
            action=chosen,
        )

    return await act(request, work, back=course_path(course_id), flash=_ANSWERS[chosen])
