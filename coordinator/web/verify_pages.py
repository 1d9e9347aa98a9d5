"""The public page a certificate's QR code opens: whether the register holds it unaltered and
valid. It shows only what proves that (number, masked name, hours, issuer, status)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from coordinator.certificates import register
from coordinator.deps import SessionDep
from coordinator.masking import mask_name
from coordinator.stations.models import Station
from coordinator.stats.periods import local_date
from coordinator.web.context import ViewerDep, render

router = APIRouter(include_in_schema=False)


@router.get("/web/verify/certificates/{number}", response_class=HTMLResponse)
async def verify_certificate(
    request: Request, number: str, viewer: ViewerDep, session: SessionDep, h: str = "", c: str = ""
) -> HTMLResponse:
    verdict = await register.verify(session, number=number[:40], hours=h[:20], code=c[:40])
    found = verdict.certificate
    details = None
    if found is not None:
        station = await session.get_one(Station, found.station_id)
        details = {
            "number": found.number,
            "name": mask_name(found.person_name),
            "hours": register.hours_text(found.minutes),
            "issuer": found.issuer_name,
            "issued_on": local_date(found.issued_at, station.timezone),
            "revoked_on": local_date(found.revoked_at, station.timezone) if found.revoked_at else None,
        }
    return render(request, "verify.html", viewer, status_code=200 if found else 404,
                  verdict=verdict.status, details=details)  # fmt: skip
