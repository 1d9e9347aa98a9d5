"""A training course of the browser tests' station, made through the JSON API as its organizer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

COURSE = "儿童保护政策与实务培训"


def station_course(api: httpx.Client, station_id: int) -> int:
    """A course of the station, open to its volunteers, with one session two days ahead; its id."""
    course = api.post(
        "/courses",
        json={"topic": COURSE, "station_id": station_id, "target_classes": ["social_worker"], "capacity": 10},
    )
    course.raise_for_status()
    course_id = int(course.json()["id"])
    starts_at = datetime.now(UTC) + timedelta(days=2)
    api.post(
        f"/courses/{course_id}/sessions",
        json={
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
            "location": "营盘坡村委会",
        },
    ).raise_for_status()
    return course_id
