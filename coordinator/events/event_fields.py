"""Rules an event's fields obey, shared by events, themes and series."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.errors import Invalid
from coordinator.events.models import EventRole
from coordinator.events.schemas import RoleIn
from coordinator.people.field_rules import check_terms
from coordinator.people.vocabulary import CATEGORIES, TermKind, Vocabulary
from coordinator.stations.models import Organization


def check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise Invalid(
            "结束时间必须晚于开始时间",
            "The end must be after the start",
            code="ends_before_start",
            field="ends_at",
        )


def check_roles(vocabulary: Vocabulary, roles: Sequence[RoleIn]) -> None:
    """Skills and languages of every role are terms of the station's vocabulary (codes de-duplicated)."""
    for i, role in enumerate(roles):
        role.skills = check_terms(vocabulary, TermKind.skill, role.skills, field=f"roles.{i}.skills")
        role.languages = check_terms(
            vocabulary, TermKind.language, role.languages, field=f"roles.{i}.languages"
        )


def check_categories(categories: Sequence[str]) -> list[str]:
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise Invalid(
            f"未知的服务对象类别：{'、'.join(unknown)}",
            f"Unknown resident category {', '.join(unknown)}; allowed: {', '.join(CATEGORIES.codes)}",
            code="unknown_category",
            field="target_categories",
            details={"unknown": unknown, "allowed": CATEGORIES.codes},
        )
    return list(dict.fromkeys(categories))


def check_capacity(
    capacity: int | None, roles: Sequence[RoleIn | EventRole], *, field: str = "capacity"
) -> int:
    """The given capacity if the role counts fit in it; the sum of the counts if none is given.
    ``field`` is the one the caller changed."""
    places = sum(role.count for role in roles)
    if capacity is None:
        return places
    if places > capacity:
        raise Invalid(
            f"各岗位人数之和（{places}）超过活动容量（{capacity}）",
            f"The role counts add up to {places}, more than the capacity {capacity}",
            code="role_counts_exceed_capacity",
            field=field,
        )
    return capacity


def capacity_follows_counts(capacity: int, roles: Sequence[EventRole]) -> bool:
    """A capacity equal to the sum of the role counts follows them when they change (it was never
    set, or set to just that); one set above it stays."""
    return capacity == sum(role.count for role in roles)


async def check_organization(session: AsyncSession, *, station_id: int, organization_id: int) -> None:
    organization = await session.get(Organization, organization_id)
    if organization is None or organization.station_id != station_id:
        raise Invalid(
            f"本站没有该社区组织：{organization_id}",
            f"Organization {organization_id} does not belong to this station",
            code="unknown_organization",
            field="organization_id",
        )
