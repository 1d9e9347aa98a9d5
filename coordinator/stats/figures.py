"""The figures of one statistics row, and how they are shown. Both the roll-ups and the plain
recount end here, so the two answers can only differ in their numbers, never in their shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Dimension = Literal["station", "region", "theme", "organization", "month", "week", "role", "party_branch"]
DIMENSIONS: tuple[Dimension, ...] = (
    "station",
    "region",
    "theme",
    "organization",
    "month",
    "week",
    "role",
    "party_branch",
)
# Dimensions of a person (not of an event): a row of them counts the events its people attended.
PERSON_DIMENSIONS = frozenset({"role", "party_branch"})
# The key each dimension has in a row.
DIMENSION_FIELDS: dict[str, str] = {
    "station": "station_id",
    "region": "region_id",
    "theme": "theme",
    "organization": "organization_id",
    "month": "month",
    "week": "week",
    "role": "role",
    "party_branch": "party_branch",
}
METRIC_FIELDS = (
    "events",
    "person_times",
    "distinct_people",
    "party_member_person_times",
    "distinct_party_members",
    "social_worker_person_times",
    "volunteer_hours",
    "residents_served_person_times",
    "distinct_residents_served",
    "no_show_rate",
)


@dataclass(frozen=True)
class Figures:
    events: int = 0
    person_times: int = 0
    distinct_people: int = 0
    party_member_person_times: int = 0
    distinct_party_members: int = 0
    social_worker_person_times: int = 0
    volunteer_minutes: int = 0
    residents_served_person_times: int = 0
    distinct_residents_served: int = 0
    no_shows: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Hours to two decimals; the no-show rate is no-shows among the people expected (attended +
        no-shows), to four decimals, 0 when nobody was expected."""
        expected = self.person_times + self.no_shows
        return {
            "events": self.events,
            "person_times": self.person_times,
            "distinct_people": self.distinct_people,
            "party_member_person_times": self.party_member_person_times,
            "distinct_party_members": self.distinct_party_members,
            "social_worker_person_times": self.social_worker_person_times,
            "volunteer_hours": round(self.volunteer_minutes / 60, 2),
            "residents_served_person_times": self.residents_served_person_times,
            "distinct_residents_served": self.distinct_residents_served,
            "no_show_rate": round(self.no_shows / expected, 4) if expected else 0.0,
        }


Key = tuple[Any, ...]


@dataclass(frozen=True)
class Participation:
    """Rows by the requested dimensions (sorted by key) and the totals of the whole selection.

    ``source`` says which path answered: ``rollup`` (the aggregate tables) or ``recount`` (the
    attendance rows themselves, for group-bys and periods the roll-ups cannot answer)."""

    group_by: tuple[Dimension, ...]
    rows: list[tuple[Key, Figures]]
    totals: Figures
    source: Literal["rollup", "recount"]

    def row_dicts(self) -> list[dict[str, Any]]:
        return [
            {
                **{DIMENSION_FIELDS[d]: value for d, value in zip(self.group_by, key, strict=True)},
                **f.as_dict(),
            }
            for key, f in self.rows
        ]


def sort_key(key: Key) -> tuple[tuple[bool, Any], ...]:
    """Rows in key order, with the "none" group (no organization, no branch …) last."""
    return tuple((value is None, "" if value is None else value) for value in key)
