"""Mounts the web pages on the application: routes, static files, headers and HTML error pages."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from coordinator.errors import CoordinatorError
from coordinator.web import (
    auth_pages,
    calendar_pages,
    dashboard_pages,
    downloads,
    event_pages,
    link_pages,
    people_pages,
    visit_pages,
    volunteer_hours,
    volunteer_pages,
)
from coordinator.web.catalog import translate
from coordinator.web.context import STATIC_DIR, CsrfRejected, LoginRequired, current_viewer, login_url, render
from coordinator.web.headers import SecurityHeadersMiddleware, is_page_path
from coordinator.web.session import lang_of


def install_web(app: FastAPI) -> None:
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/web/static", StaticFiles(directory=STATIC_DIR), name="web-static")
    for module in (
        auth_pages,
        calendar_pages,
        event_pages,
        link_pages,
        people_pages,
        volunteer_pages,
        volunteer_hours,
        dashboard_pages,
        visit_pages,
        downloads,
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
        return RedirectResponse(login_url(target, volunteer=exc.volunteer), status_code=303)

    async def csrf_rejected(request: Request, exc: Exception) -> Response:
        message = translate(lang_of(request), "csrf.failed")
        return render(request, "error.html", None, status_code=403, message=message)

    app.add_exception_handler(CoordinatorError, coordinator_error)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRejected, csrf_rejected)
