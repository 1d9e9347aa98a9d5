"""The dispatcher's and the resolver's claims read the partial due index even under a generic
plan (prepared statements switch to one after a few runs): their status is written in the SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from coordinator.db import create_engine
from coordinator.notify.models import NotificationStatus, in_flight_status

IN_FLIGHT = [NotificationStatus.pending, NotificationStatus.sending, NotificationStatus.unknown]


async def _generic_plan(url: str, status_condition: str, *arguments: str) -> str:
    """The plan of a claim-shaped query prepared with ``status_condition`` (``$2`` = a status)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SET plan_cache_mode = force_generic_plan"))
            await connection.execute(text("SET enable_seqscan = off"))
            await connection.execute(
                text(
                    "PREPARE claim AS SELECT id FROM notifications"
                    f" WHERE {status_condition} AND next_attempt_at <= $1::timestamptz"
                    " ORDER BY next_attempt_at, id LIMIT 100"
                )
            )
            values = ", ".join(["'2026-11-29T02:00:00+00:00'", *(f"'{a}'" for a in arguments)])
            rows = await connection.execute(text(f"EXPLAIN EXECUTE claim({values})"))
            return "\n".join(row[0] for row in rows)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("status", IN_FLIGHT)
async def test_an_in_flight_status_reads_the_due_index(pg_url: str, status: NotificationStatus) -> None:
    condition = str(in_flight_status(status).compile(compile_kwargs={"literal_binds": True}))
    assert "ix_notifications_due" in await _generic_plan(pg_url, condition)


async def test_a_bound_status_could_not_and_history_is_not_in_it(pg_url: str) -> None:
    assert "ix_notifications_due" not in await _generic_plan(pg_url, "status = $2::text", "pending")
    with pytest.raises(ValueError, match="not in the due index"):
        in_flight_status(NotificationStatus.sent)
