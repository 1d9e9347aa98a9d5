"""Who is calling, and which stations they may see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import InstrumentedAttribute

from coordinator.auth.models import Role
from coordinator.errors import Forbidden

STAFF_ROLES = frozenset({Role.admin, Role.station_head, Role.organizer})


@dataclass(frozen=True)
class Principal:
    user_id: int
    role: Role
    station_ids: frozenset[int]  # with every station below ``region_id``
    person_id: int | None = None
    region_id: int | None = None  # staff of a region (a county's civil-affairs bureau …)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def can_access(self, station_id: int) -> bool:
        return self.is_admin or station_id in self.station_ids

    def station_filter(self, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
        """A WHERE clause keeping only the rows of stations this principal may see."""
        return true() if self.is_admin else column.in_(sorted(self.station_ids))

    def sees_personal_data(self, station_id: int) -> bool:
        """Residents' phones and ID numbers: admins, and heads of that station."""
        return self.is_admin or (self.role is Role.station_head and station_id in self.station_ids)

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise Forbidden(
                "当前角色无权进行此操作", f"Role {self.role} may not do this", code="role_forbidden"
            )

    def require_staff(self) -> None:
        self.require(*STAFF_ROLES)
