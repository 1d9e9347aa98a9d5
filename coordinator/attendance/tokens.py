"""Signed tokens behind the QR codes: an event's check-in code and a person's own code.

- A check-in token (purpose ``checkin``) names one event and carries its window, from one hour
  before the start to the end, for scanners that show it offline. The server checks the window
  against the event's *current* times, so a printed code survives a reschedule and never works
  outside the event.
- A person token (purpose ``person``) names one person and the version of their code
  (``Person.qr_token_version``, 0 before versions); revoking bumps it, so earlier copies fail.
A bad signature or a token of another purpose answers 400 ``invalid_token`` (not 401: the caller
is logged in, it is the scanned code that is wrong)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from coordinator.errors import BadRequest, Conflict, Unauthorized
from coordinator.events.models import Event
from coordinator.security import sign, verify

CHECKIN_PURPOSE = "checkin"
PERSON_PURPOSE = "person"
# Volunteers arrive early to set up; the code opens this long before the start.
OPENS_BEFORE_START = timedelta(hours=1)


@dataclass(frozen=True)
class CheckinWindow:
    opens_at: datetime
    closes_at: datetime

    def contains(self, instant: datetime) -> bool:
        return self.opens_at <= instant < self.closes_at


def checkin_window(event: Event) -> CheckinWindow:
    return CheckinWindow(opens_at=event.starts_at - OPENS_BEFORE_START, closes_at=event.ends_at)


def checkin_token(secret: str, event: Event, *, now: datetime) -> str:
    window = checkin_window(event)
    claims = {
        "eid": event.id,
        "from": int(window.opens_at.timestamp()),
        "until": int(window.closes_at.timestamp()),
    }
    return sign(secret, CHECKIN_PURPOSE, claims, now=now)


def person_token(secret: str, person_id: int, *, version: int, now: datetime) -> str:
    return sign(secret, PERSON_PURPOSE, {"pid": person_id, "ver": version}, now=now)


def invalid_token() -> BadRequest:
    return BadRequest("二维码无效或已被篡改", "Invalid or forged code", code="invalid_token", field="token")


def _claims(secret: str, purpose: str, token: str, *, now: datetime) -> dict[str, Any]:
    try:
        return verify(secret, purpose, token, now=now, expiring=False)
    except Unauthorized as exc:
        raise invalid_token() from exc


def _int_claim(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    # bool is an int: a token saying {"eid": true} is not an event id.
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_token()
    return value


def event_id_of(secret: str, token: str, *, now: datetime) -> int:
    """The event a check-in token names; the window is checked by ``check_window``."""
    return _int_claim(_claims(secret, CHECKIN_PURPOSE, token, now=now), "eid")


@dataclass(frozen=True)
class PersonCode:
    person_id: int
    version: int


def person_code_of(secret: str, token: str, *, now: datetime) -> PersonCode:
    claims = _claims(secret, PERSON_PURPOSE, token, now=now)
    version = _int_claim(claims, "ver") if "ver" in claims else 0
    return PersonCode(person_id=_int_claim(claims, "pid"), version=version)


def revoked_code() -> BadRequest:
    return BadRequest(
        "该二维码已作废，请出示新的个人二维码",
        "This code was revoked: show your new personal code",
        code="revoked_token",
        field="token",
    )


def check_window(event: Event, instant: datetime) -> None:
    window = checkin_window(event)
    if window.contains(instant):
        return
    too_early = instant < window.opens_at
    raise Conflict(
        "签到尚未开始（活动开始前1小时开放）" if too_early else "签到已结束",
        "Check-in opens one hour before the start" if too_early else "Check-in has closed",
        code="checkin_window_closed",
        details={
            "opens_at": window.opens_at.astimezone(UTC).isoformat(),
            "closes_at": window.closes_at.astimezone(UTC).isoformat(),
        },
    )


def check_event_matches(token_event_id: int, expected_event_id: int | None) -> None:
    if expected_event_id is not None and token_event_id != expected_event_id:
        raise Conflict(
            "该二维码属于另一场活动",
            f"This code is for event {token_event_id}, not {expected_event_id}",
            code="token_event_mismatch",
            field="token",
        )
