"""Logging in and out: staff by password, volunteers by a code sent to their phone; the language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coordinator.auth import otp
from coordinator.auth.login import log_in
from coordinator.auth.service import end_sessions
from coordinator.db import transaction
from coordinator.deps import client_address
from coordinator.errors import CoordinatorError
from coordinator.web import session as cookies
from coordinator.web.catalog import LANGS
from coordinator.web.context import (
    FormDep,
    ViewerDep,
    channels_of,
    clock_of,
    error_flash,
    redirect,
    render,
    safe_next,
    sessionmaker_of,
    settings_of,
)
from coordinator.web.scope import text
from coordinator.web.wechat_pages import bind_waiting_openid

router = APIRouter()


@router.get("/", include_in_schema=False)
async def home(viewer: ViewerDep) -> RedirectResponse:
    if viewer is None:
        return RedirectResponse("/web/login", status_code=303)
    return RedirectResponse("/web/calendar" if viewer.is_staff else "/web/m", status_code=303)


@router.get("/web/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page(request: Request, viewer: ViewerDep, next: str = "") -> HTMLResponse:
    return render(request, "login.html", viewer, next=safe_next(next, ""), username="")


@router.post("/web/login", include_in_schema=False)
async def login(request: Request, form: FormDep, viewer: ViewerDep) -> Response:
    settings, clock = settings_of(request), clock_of(request)
    username = text(form, "username")
    try:
        user = await log_in(
            sessionmaker=sessionmaker_of(request),
            clock=clock,
            settings=settings,
            username=username,
            password=text(form, "password"),
            address=client_address(request),
        )
    except CoordinatorError as exc:
        reason = exc.message if cookies.lang_of(request) == "zh" else exc.message_en
        page = render(
            request,
            "login.html",
            viewer,
            status_code=exc.status_code,
            next=safe_next(text(form, "next"), ""),
            username=username,
            error_text=reason,
        )
        page.headers.update(exc.headers or {})
        return page
    response = redirect(request, safe_next(text(form, "next"), "/"))
    cookies.start_session(response, settings, clock, user)
    return response


@router.post("/web/logout", include_in_schema=False)
async def logout(request: Request, form: FormDep) -> RedirectResponse:
    """Ends the session on the server too: a copy of the cookie no longer opens a page."""
    account = cookies.session_account(request, settings_of(request), clock_of(request))
    if account is not None:
        async with transaction(sessionmaker_of(request)) as session:
            await end_sessions(session, account.user_id)
    response = RedirectResponse("/web/login", status_code=303)
    cookies.end_session(response)
    return response


@router.post("/web/lang", include_in_schema=False)
async def switch_language(request: Request, form: FormDep) -> RedirectResponse:
    wanted = text(form, "lang")
    response = RedirectResponse(safe_next(text(form, "next"), "/"), status_code=303)
    for lang in LANGS:
        if lang == wanted:
            cookies.set_lang(response, settings_of(request), lang)
    return response


@router.get("/web/otp", response_class=HTMLResponse, include_in_schema=False)
async def otp_page(request: Request, viewer: ViewerDep, next: str = "") -> HTMLResponse:
    return render(request, "otp.html", viewer, next=safe_next(next, ""), phone=None)


@router.post("/web/otp", include_in_schema=False)
async def otp_request(request: Request, form: FormDep, viewer: ViewerDep) -> Response:
    settings, clock = settings_of(request), clock_of(request)
    next_path = safe_next(text(form, "next"), "")
    try:
        async with transaction(sessionmaker_of(request)) as session:
            delivery = await otp.request_code(
                session, clock, settings, phone=text(form, "phone"), ip=client_address(request)
            )
    except CoordinatorError as exc:
        return redirect(request, f"/web/otp?next={next_path}", error_flash(exc))
    if delivery is not None:
        # Sent after the commit above, as the API does; the console channel keeps it for development.
        await otp.send_code(
            sessionmaker=sessionmaker_of(request),
            clock=clock,
            settings=settings,
            channels=channels_of(request),
            delivery=delivery,
        )
        phone = delivery.phone
    else:
        phone = text(form, "phone")  # unknown phones see the same page: nothing is revealed
    return render(request, "otp.html", viewer, next=next_path, phone=phone)


@router.post("/web/otp/verify", include_in_schema=False)
async def otp_verify(request: Request, form: FormDep, viewer: ViewerDep) -> Response:
    settings, clock = settings_of(request), clock_of(request)
    next_path = safe_next(text(form, "next"), "/web/m")
    try:
        async with transaction(sessionmaker_of(request)) as session:
            # A refusal is returned, not raised, so the counted attempt commits.
            outcome = await otp.verify_code(
                session, clock, settings, phone=text(form, "phone"), code=text(form, "code")
            )
    except CoordinatorError as exc:
        outcome = exc
    if isinstance(outcome, CoordinatorError):
        return redirect(request, f"/web/otp?next={next_path}", error_flash(outcome))
    response = redirect(request, next_path)
    await bind_waiting_openid(request, response, outcome)
    cookies.start_session(response, settings, clock, outcome)
    return response
