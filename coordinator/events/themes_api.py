from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from coordinator.deps import ClockDep, PrincipalDep, SessionDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.events import custom_themes
from coordinator.events.schemas import ThemeCreate, ThemeList, ThemeOut
from coordinator.fields import Id

router = APIRouter(tags=["themes"], responses=ERROR_RESPONSES)


@router.get("/themes", response_model=ThemeList, summary="Built-in themes and a station's own")
async def list_themes(
    session: SessionDep,
    principal: PrincipalDep,
    station_id: Annotated[Id | None, Query(description="Also this station's own themes")] = None,
) -> ThemeList:
    themes = await custom_themes.list_themes(session=session, principal=principal, station_id=station_id)
    return ThemeList(items=[custom_themes.theme_out(theme) for theme in themes])


@router.post(
    "/themes",
    status_code=status.HTTP_201_CREATED,
    response_model=ThemeOut,
    summary="Add a station's own theme",
)
async def create_theme(
    data: ThemeCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> ThemeOut:
    theme = await custom_themes.create_theme(session=session, clock=clock, principal=principal, data=data)
    return custom_themes.theme_out(theme)
