"""``db.plain_instance``: an instance built as SQLAlchemy builds the ones it loads, without the
constructor's change events, must read and behave like one the constructor built."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached

import coordinator.models  # noqa: F401  (every table mapped)
from coordinator.db import plain_instance
from coordinator.events.models import Event, Signup, SignupSource, SignupStatus

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_it_reads_like_a_constructed_instance_and_has_no_changes() -> None:
    values = {"id": 7, "station_id": 3, "status": "published", "starts_at": NOW, "ends_at": NOW}
    plain, built = plain_instance(Event, values), Event(**values)
    for key in values:
        assert getattr(plain, key) == getattr(built, key)
    assert plain.title is None  # unset: as on a new instance
    assert plain.roles == []
    state = inspect(plain)
    assert state.transient
    assert not any(state.attrs[key].history.has_changes() for key in values)  # loaded, not set


def test_made_detached_it_is_a_stored_row_s_instance() -> None:
    signup = plain_instance(
        Signup,
        {
            "id": 11,
            "event_id": 1,
            "role_id": 2,
            "person_id": 3,
            "status": SignupStatus.confirmed,
            "source": SignupSource.self,
            "created_at": NOW,
        },
    )
    make_transient_to_detached(signup)
    state = inspect(signup)
    assert state.detached
    assert state.identity == (11,)
    assert signup.status == SignupStatus.confirmed
