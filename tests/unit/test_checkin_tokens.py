"""Check-in and person tokens: purpose, claims and the check-in window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from coordinator.attendance import tokens
from coordinator.errors import BadRequest, Conflict
from coordinator.events.models import Event
from coordinator.security import sign

SECRET = "unit-test-secret-0123456789-abcdefghijklmnop"
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def _event(event_id: int = 7, starts_in: timedelta = timedelta(hours=1)) -> Event:
    return Event(id=event_id, starts_at=NOW + starts_in, ends_at=NOW + starts_in + timedelta(hours=2))


def test_checkin_token_names_its_event_and_carries_the_window() -> None:
    event = _event()
    token = tokens.checkin_token(SECRET, event, now=NOW)
    assert tokens.event_id_of(SECRET, token, now=NOW) == 7
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert (claims["pur"], claims["from"], claims["until"]) == (
        "checkin",
        int(NOW.timestamp()),
        int((NOW + timedelta(hours=3)).timestamp()),
    )


def test_window_opens_an_hour_before_the_start_and_closes_at_the_end() -> None:
    event = _event()
    tokens.check_window(event, event.starts_at - timedelta(hours=1))
    tokens.check_window(event, event.ends_at - timedelta(seconds=1))
    for instant in (event.starts_at - timedelta(hours=1, seconds=1), event.ends_at):
        with pytest.raises(Conflict) as caught:
            tokens.check_window(event, instant)
        assert caught.value.code == "checkin_window_closed"


def test_a_token_of_one_purpose_is_refused_for_the_other() -> None:
    person = tokens.person_token(SECRET, 3, version=2, now=NOW)
    checkin = tokens.checkin_token(SECRET, _event(), now=NOW)
    assert tokens.person_code_of(SECRET, person, now=NOW) == tokens.PersonCode(person_id=3, version=2)
    with pytest.raises(BadRequest) as caught:
        tokens.event_id_of(SECRET, person, now=NOW)
    assert caught.value.code == "invalid_token"
    with pytest.raises(BadRequest):
        tokens.person_code_of(SECRET, checkin, now=NOW)


def test_a_person_code_from_before_versions_is_version_0() -> None:
    earlier = sign(SECRET, tokens.PERSON_PURPOSE, {"pid": 3}, now=NOW)
    assert tokens.person_code_of(SECRET, earlier, now=NOW) == tokens.PersonCode(person_id=3, version=0)


@pytest.mark.parametrize("eid", [True, "7", None, 7.0])
def test_a_signed_token_with_a_malformed_event_id_is_invalid(eid: object) -> None:
    token = jwt.encode({"pur": "checkin", "eid": eid}, SECRET, algorithm="HS256")
    with pytest.raises(BadRequest):
        tokens.event_id_of(SECRET, token, now=NOW)


def test_token_signed_with_another_key_is_invalid() -> None:
    token = tokens.checkin_token("another-secret-0123456789-abcdefghijklmno", _event(), now=NOW)
    with pytest.raises(BadRequest):
        tokens.event_id_of(SECRET, token, now=NOW)


def test_other_event_is_a_mismatch_and_no_expectation_is_fine() -> None:
    tokens.check_event_matches(7, None)
    tokens.check_event_matches(7, 7)
    with pytest.raises(Conflict) as caught:
        tokens.check_event_matches(7, 8)
    assert caught.value.code == "token_event_mismatch"
