"""What every page handler needs: who is looking, the form check, rendering, and redirects.

Pages call the domain services directly. A page that only reads uses the request's session; a
form that changes something runs its work in ``act``: one transaction that commits on success
and rolls back entirely on a refused request (invariant 7), after which the browser is
redirected back with the service's own message (Chinese or English) as a flash."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData

from coordinator.auth.models import Role, User
from coordinator.auth.principal import STAFF_ROLES, Principal
from coordinator.auth.service import load_principal
from coordinator.clock import Clock
from coordinator.db import transaction
from coordinator.errors import CoordinatorError, Forbidden
from coordinator.events.durations import describe_offset
from coordinator.notify.channels import Channel
from coordinator.people.models import Person
from coordinator.settings import Settings
from coordinator.web import session as cookies
from coordinator.web.catalog import pick, translate
from coordinator.web.static_files import static_url

T = TypeVar("T")
HERE = Path(__file__).parent
_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["offset_words"] = describe_offset
_env.globals["static_url"] = static_url


class LoginRequired(Exception):
    """Answered with a redirect to the right login page (phone code for volunteer pages)."""

    def __init__(self, *, volunteer: bool) -> None:
        super().__init__("login required")
        self.volunteer = volunteer


class CsrfRejected(Exception):
    pass


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    name: str
    social_worker: bool = False

    @property
    def is_staff(self) -> bool:
        return self.principal.role in STAFF_ROLES

    @property
    def works_cases(self) -> bool:
        """Whom the case pages are for (the menu); ``cases.access`` decides each station's notes."""
        return self.principal.role is Role.station_head or (self.is_staff and self.social_worker)

    @property
    def person_id(self) -> int:
        assert self.principal.person_id is not None
        return self.principal.person_id


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def clock_of(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def sessionmaker_of(request: Request) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return maker


def channels_of(request: Request) -> Mapping[str, Channel]:
    channels: Mapping[str, Channel] = request.app.state.channels
    return channels


async def current_viewer(request: Request) -> Viewer | None:
    if hasattr(request.state, "viewer"):
        cached: Viewer | None = request.state.viewer
        return cached
    viewer: Viewer | None = None
    account = cookies.session_account(request, settings_of(request), clock_of(request))
    if account is not None:
        async with sessionmaker_of(request)() as session:
            user = await session.get(User, account.user_id)
            if user is not None and user.is_active and user.session_version == account.session_version:
                principal = await load_principal(session=session, user=user)
                person = await session.get(Person, user.person_id) if user.person_id is not None else None
                name = person.name if person else user.username or ""
                social_worker = person is not None and person.is_social_worker
                viewer = Viewer(principal=principal, name=name, social_worker=social_worker)
    request.state.viewer = viewer
    return viewer


async def staff_viewer(request: Request) -> Viewer:
    viewer = await current_viewer(request)
    if viewer is None:
        raise LoginRequired(volunteer=False)
    if not viewer.is_staff:
        raise Forbidden("此页面仅限工作人员", "This page is for staff", code="role_forbidden")
    return viewer


async def volunteer_viewer(request: Request) -> Viewer:
    viewer = await current_viewer(request)
    if viewer is None:
        raise LoginRequired(volunteer=True)
    if viewer.principal.person_id is None:
        raise Forbidden("此页面仅限志愿者", "This page is for volunteers", code="role_forbidden")
    return viewer


async def checked_form(request: Request) -> AsyncIterator[FormData]:
    """The posted form, once its CSRF field matches the cookie; its uploads are closed afterwards."""
    form = await request.form()
    try:
        if not cookies.csrf_valid(request, form.get(cookies.CSRF_FIELD)):
            raise CsrfRejected()
        yield form
    finally:
        await form.close()


ViewerDep = Annotated[Viewer | None, Depends(current_viewer)]
StaffDep = Annotated[Viewer, Depends(staff_viewer)]
VolunteerDep = Annotated[Viewer, Depends(volunteer_viewer)]
FormDep = Annotated[FormData, Depends(checked_form)]


def render(
    request: Request, template: str, viewer: Viewer | None, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    settings, clock = settings_of(request), clock_of(request)
    lang = cookies.lang_of(request)
    csrf, _ = cookies.csrf_token(request)
    probe = Response()
    flash = cookies.pop_flash(request, probe, settings, clock)

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    def both(zh: str | None, en: str | None) -> str:
        return pick(lang, zh or "", en or zh or "")

    body = _env.get_template(template).render(
        request=request,
        viewer=viewer,
        lang=lang,
        t=t,
        both=both,
        csrf=csrf,
        csrf_field=cookies.CSRF_FIELD,
        flash=flash,
        path=request.url.path,
        full_path=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        **context,
    )
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if flash is not None:
        response.delete_cookie(cookies.FLASH_COOKIE, path="/")
    cookies.set_csrf_cookie(request, response, settings)
    return response


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths: ``next=https://evil.example`` or ``//evil`` falls back to the default."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def redirect(request: Request, url: str, flash: cookies.Flash | None = None) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if flash is not None:
        cookies.set_flash(response, settings_of(request), clock_of(request), flash)
    return response


def ok(key: str) -> cookies.Flash:
    return cookies.Flash("ok", translate("zh", key), translate("en", key))


def error_flash(exc: CoordinatorError) -> cookies.Flash:
    return cookies.Flash("error", exc.message, exc.message_en)


def invalid_flash(exc: ValidationError) -> cookies.Flash:
    """A form value the request shapes refused (they speak English; the field names are shown)."""
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": ""}
    field = ".".join(str(part) for part in first.get("loc", ()))
    return cookies.Flash(
        "error", f"填写有误：{field} {first.get('msg', '')}", f"Invalid: {field} {first.get('msg', '')}"
    )


async def act(
    request: Request,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    back: str,
    done: str | Callable[[T], str] | None = None,
    flash: str | Callable[[T], str] | None = None,
) -> RedirectResponse:
    """Run ``work`` in its own transaction; redirect to ``done`` (or ``back`` when refused)."""
    try:
        async with transaction(sessionmaker_of(request)) as session:
            result = await work(session)
    except CoordinatorError as exc:
        return redirect(request, back, error_flash(exc))
    except ValidationError as exc:
        return redirect(request, back, invalid_flash(exc))
    target = done(result) if callable(done) else (done or back)
    message = flash(result) if callable(flash) else flash
    return redirect(request, target, ok(message) if message else None)


def login_url(next_path: str, *, volunteer: bool) -> str:
    page = "/web/otp" if volunteer else "/web/login"
    return f"{page}?next={quote(next_path, safe='')}"
