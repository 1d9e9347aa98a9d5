"""The browser's session, CSRF token, flash message and language, all in cookies.

- Session: a token signed for the purpose ``web_session`` (never a bearer token), ``HttpOnly``,
  ``SameSite=Lax``, ``Secure`` on https; it carries the account's session version, so logging out
  ends it on the server too.
- CSRF: double-submit; a random token in an ``HttpOnly`` cookie is written into every form.
- Flash: one signed, short-lived message; and the signed short-lived cookies of WeChat sign-in.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request, Response

from coordinator.auth.models import User
from coordinator.auth.service import TokenAccount, account_claims, account_of_claims
from coordinator.clock import Clock
from coordinator.errors import CoordinatorError
from coordinator.security import sign, verify
from coordinator.settings import Settings
from coordinator.web.catalog import LANGS, Lang

SESSION_COOKIE = "coord_session"
CSRF_COOKIE = "coord_csrf"
FLASH_COOKIE = "coord_flash"
LANG_COOKIE = "lang"
CSRF_FIELD = "_csrf"
SESSION_PURPOSE = "web_session"
FLASH_PURPOSE = "web_flash"
FLASH_LIFETIME = timedelta(minutes=2)


@dataclass(frozen=True)
class Flash:
    kind: str  # "ok" or "error"
    zh: str
    en: str

    def text(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


def _secret(settings: Settings) -> str:
    return settings.secret_key.get_secret_value()


def _secure(settings: Settings) -> bool:
    return settings.public_base_url.lower().startswith("https://")


def _set(response: Response, settings: Settings, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
        path="/",
    )


def session_account(request: Request, settings: Settings, clock: Clock) -> TokenAccount | None:
    """The account the session cookie names, at the session version it was issued at; the caller
    compares that with the account's current version (``auth.service.end_sessions``)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return account_of_claims(verify(_secret(settings), SESSION_PURPOSE, token, now=clock.now()))
    except CoordinatorError:
        return None


def start_session(response: Response, settings: Settings, clock: Clock, user: User) -> None:
    lifetime = timedelta(minutes=settings.access_token_minutes)
    token = sign(
        _secret(settings), SESSION_PURPOSE, account_claims(user), now=clock.now(), expires_in=lifetime
    )
    _set(response, settings, SESSION_COOKIE, token, int(lifetime.total_seconds()))
    # A new CSRF token with the new session: one fixed before login is not reused after it.
    _set(response, settings, CSRF_COOKIE, secrets.token_urlsafe(32), None)


def set_signed(
    response: Response,
    settings: Settings,
    clock: Clock,
    *,
    name: str,
    claims: dict[str, Any],
    lifetime: timedelta,
) -> None:
    """A cookie of ``claims`` signed for the purpose ``name``, gone after ``lifetime``."""
    token = sign(_secret(settings), name, claims, now=clock.now(), expires_in=lifetime)
    _set(response, settings, name, token, int(lifetime.total_seconds()))


def signed(request: Request, settings: Settings, clock: Clock, name: str) -> dict[str, Any] | None:
    """The claims of a cookie ``set_signed`` wrote, None when absent, forged or expired."""
    token = request.cookies.get(name)
    if not token:
        return None
    try:
        return verify(_secret(settings), name, token, now=clock.now())
    except CoordinatorError:
        return None


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def csrf_token(request: Request) -> tuple[str, bool]:
    """The request's CSRF token, and whether it is new (then the response must set the cookie)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) >= 32:
        return existing, False
    cached: str | None = getattr(request.state, "new_csrf", None)
    if cached is None:
        cached = secrets.token_urlsafe(32)
        request.state.new_csrf = cached
    return cached, True


def set_csrf_cookie(request: Request, response: Response, settings: Settings) -> None:
    token, new = csrf_token(request)
    if new:
        _set(response, settings, CSRF_COOKIE, token, None)


def csrf_valid(request: Request, submitted: Any) -> bool:
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def lang_of(request: Request) -> Lang:
    value = request.cookies.get(LANG_COOKIE)
    for lang in LANGS:
        if value == lang:
            return lang
    return "zh"


def set_lang(response: Response, settings: Settings, lang: Lang) -> None:
    response.set_cookie(
        LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", secure=_secure(settings), path="/"
    )


def set_flash(response: Response, settings: Settings, clock: Clock, flash: Flash) -> None:
    token = sign(
        _secret(settings),
        FLASH_PURPOSE,
        {"k": flash.kind, "zh": flash.zh, "en": flash.en},
        now=clock.now(),
        expires_in=FLASH_LIFETIME,
    )
    _set(response, settings, FLASH_COOKIE, token, int(FLASH_LIFETIME.total_seconds()))


def pop_flash(request: Request, response: Response, settings: Settings, clock: Clock) -> Flash | None:
    token = request.cookies.get(FLASH_COOKIE)
    if not token:
        return None
    response.delete_cookie(FLASH_COOKIE, path="/")
    try:
        claims = verify(_secret(settings), FLASH_PURPOSE, token, now=clock.now())
    except CoordinatorError:
        return None
    return Flash(kind=str(claims.get("k", "ok")), zh=str(claims.get("zh", "")), en=str(claims.get("en", "")))
