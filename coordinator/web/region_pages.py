"""The dashboard of a region (a county's, a city's, the province's): its figures, a row per region
below it and per month, and its station coverage, from the same statistics service as the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from coordinator.deps import ReadsDep, SessionDep
from coordinator.errors import Invalid
from coordinator.fields import Id, parse_day
from coordinator.people.models import QUALIFICATION_LABELS
from coordinator.regions.coverage import coverage
from coordinator.regions.models import Region
from coordinator.stats.figures import Participation
from coordinator.stats.service import Selection, participation, select_scope
from coordinator.web.context import StaffDep, clock_of, render

router = APIRouter(include_in_schema=False)


@router.get("/web/regions/dashboard", response_class=HTMLResponse)
async def region_dashboard(
    request: Request,
    viewer: StaffDep,
    session: SessionDep,
    reads: ReadsDep,
    region: Id | None = None,
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
) -> HTMLResponse:
    region_id = region or viewer.principal.region_id
    if region_id is None:
        raise Invalid("请选择行政区域", "Choose a region", code="region_required", field="region")
    reach = await coverage(session, viewer.principal, region_id)  # 404 for a region not the viewer's

    async def figures(*group_by: str) -> tuple[Selection, Participation]:
        selection = await select_scope(
            session, viewer.principal, clock_of(request), station_id=None, region_id=region_id,
            first=parse_day(from_, field="from"), last=parse_day(to, field="to"), group_by=list(group_by),
        )  # fmt: skip
        return selection, await reads.run(session, lambda on: participation(on, selection))

    selection, by_region = await figures("region")
    _, by_month = await figures("month")
    names = {rid: name for rid, name in await session.execute(select(Region.id, Region.name))}
    return render(
        request,
        "region_dashboard.html",
        viewer,
        region=reach.region,
        first=selection.first,
        last=selection.last,
        totals=by_region.totals.as_dict(),
        by_region=[(names.get(key[0], key[0]), f.as_dict()) for key, f in by_region.rows],
        by_month=[(key[0], f.as_dict()) for key, f in by_month.rows],
        reach=reach,
        qualifications=[(QUALIFICATION_LABELS[q], n) for q, n in reach.by_qualification.items()],
        source=by_region.source,
    )
