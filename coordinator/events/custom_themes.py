"""Listing themes and creating a station's own ones (built-in themes live in ``events.themes``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.db import flush_or_raise
from coordinator.errors import Conflict
from coordinator.events.event_fields import check_categories, check_roles
from coordinator.events.models import CustomTheme
from coordinator.events.schemas import ThemeCreate, ThemeOut, role_dicts, theme_roles
from coordinator.events.themes import BUILTIN_THEMES, Theme, theme_from_row
from coordinator.people.vocabularies import load_vocabulary
from coordinator.stations.service import get_station


def theme_out(theme: Theme) -> ThemeOut:
    return ThemeOut(
        code=theme.code,
        name_zh=theme.name_zh,
        name_en=theme.name_en,
        duration_minutes=theme.duration_minutes,
        roles=theme_roles(theme),
        reminder_offsets=list(theme.reminder_offsets),
        target_categories=list(theme.target_categories),
        color=theme.color,
        builtin=theme.builtin,
        station_id=theme.station_id,
    )


async def list_themes(*, session: AsyncSession, principal: Principal, station_id: int | None) -> list[Theme]:
    """The built-in themes, then (with a station) that station's own themes by code."""
    themes = list(BUILTIN_THEMES.values())
    if station_id is not None:
        await get_station(session=session, principal=principal, station_id=station_id)
        rows = await session.scalars(
            select(CustomTheme).where(CustomTheme.station_id == station_id).order_by(CustomTheme.code)
        )
        themes.extend(theme_from_row(row) for row in rows)
    return themes


async def create_theme(
    *, session: AsyncSession, clock: Clock, principal: Principal, data: ThemeCreate
) -> Theme:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=data.station_id)
    taken = Conflict(
        f"主题代码已存在：{data.code}", f"Theme code {data.code!r} exists", code="theme_exists", field="code"
    )
    # Built-in themes are not rows: the (station_id, code) constraint cannot see them.
    if data.code in BUILTIN_THEMES:
        raise taken
    vocabulary = await load_vocabulary(session=session, station_id=data.station_id)
    check_roles(vocabulary, data.roles)
    row = CustomTheme(
        station_id=data.station_id,
        code=data.code,
        name_zh=data.name_zh,
        name_en=data.name_en,
        duration_minutes=data.duration_minutes,
        roles=role_dicts(data.roles),
        reminder_offsets=data.reminder_offsets,
        target_categories=check_categories(data.target_categories),
        color=data.color.lower(),
        created_at=clock.now(),
    )
    session.add(row)
    await flush_or_raise(session, taken)
    return theme_from_row(row)
