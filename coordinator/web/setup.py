"""Mounts the web pages on the application: routes, static files, headers and HTML error pages."""

from __future__ import annotations

import inspect
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.gzip import GZipMiddleware

from coordinator.errors import CoordinatorError
from coordinator.web import (
    auth_pages,
    calendar_pages,
    case_pages,
    course_pages,
    course_staff_pages,
    dashboard_pages,
    door_pages,
    downloads,
    event_pages,
    link_pages,
    people_pages,
    region_pages,
    training_pages,
    verify_pages,
    visit_pages,
    visit_sync,
    volunteer_hours,
    volunteer_pages,
    wechat_pages,
)
from coordinator.web.catalog import translate
from coordinator.web.context import CsrfRejected, LoginRequired, current_viewer, login_url, render
from coordinator.web.headers import SecurityHeadersMiddleware, is_page_path
from coordinator.web.session import lang_of
from coordinator.web.static_files import STATIC_DIR, VersionedStaticFiles
from coordinator.web.wechat_pages import in_wechat, web_login


def install_web(app: FastAPI) -> None:
    app.add_middleware(SecurityHeadersMiddleware)
    # Village phones pay for every byte: pages, scripts and JSON go compressed where accepted.
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.mount("/web/static", VersionedStaticFiles(directory=STATIC_DIR), name="web-static")
    for module in (
        auth_pages,
        calendar_pages,
        door_pages,
        event_pages,
        link_pages,
        people_pages,
        volunteer_pages,
        volunteer_hours,
        course_pages,
        dashboard_pages,
        region_pages,
        training_pages,
        course_staff_pages,
        visit_pages,
        visit_sync,
        case_pages,
        downloads,
        wechat_pages,
        verify_pages,
    ):
        app.include_router(module.router)
    api_error_handler = app.exception_handlers[CoordinatorError]
    assert inspect.iscoroutinefunction(api_error_handler)

    async def coordinator_error(request: Request, exc: Exception) -> Response:
        """Pages answer errors as a page; the API keeps its JSON envelope."""
        if not is_page_path(request.url.path) or not isinstance(exc, CoordinatorError):
            answer: Response = await api_error_handler(request, exc)
            return answer
        viewer = await current_viewer(request)
        message = exc.message if lang_of(request) == "zh" else exc.message_en
        return render(request, "error.html", viewer, status_code=exc.status_code, message=message)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if exc.volunteer and in_wechat(request) and web_login(request).web_enabled:
            # Inside WeChat the volunteer need not type anything: WeChat says who they are.
            return RedirectResponse(f"/web/wechat/start?next={quote(target, safe='')}", status_code=303)
        return RedirectResponse(login_url(target, volunteer=exc.volunteer), status_code=303)

    async def csrf_rejected(request: Request, exc: Exception) -> Response:
        message = translate(lang_of(request), "csrf.failed")
        return render(request, "error.html", None, status_code=403, message=message)

    app.add_exception_handler(CoordinatorError, coordinator_error)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRejected, csrf_rejected)
