"""The volunteer's record page lists their certificates (ID masked) and serves their PDFs; the
public check page a QR code opens needs no login."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance, AttendanceMethod, AttendanceStatus
from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.certificates import register
from coordinator.certificates.register import Issuer
from coordinator.clock import FixedClock
from coordinator.records.identity import IdCipher, seal
from coordinator.records.models import IdType, PersonIdentity
from coordinator.stats import certificate as certificate_pdf
from tests.conftest import ID_NUMBER_KEY, TEST_SECRET
from tests.factories import create_event, create_person, create_station, create_volunteer_login
from tests.records_helpers import resident_id
from tests.web.test_volunteer_pages import _log_in_as

ADMIN = Principal(user_id=0, role=Role.admin, station_ids=frozenset())
ID_NUMBER = resident_id("52260119900101123")


async def test_a_volunteer_sees_their_certificates_and_anyone_checks_one(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        event = await create_event(session, clock, station, title="重阳敬老", starts_in=timedelta(days=-3))
        person, other = (
            await create_person(session, clock, station),
            await create_person(session, clock, station),
        )
        for attendee in (person, other):
            session.add(Attendance(
                event_id=event.id, person_id=attendee.id, station_id=station.id,
                status=AttendanceStatus.present, method=AttendanceMethod.roster,
                checked_in_at=event.starts_at, checked_out_at=event.ends_at, minutes=90,
                created_at=clock.now(), updated_at=clock.now(),
            ))  # fmt: skip
        identity = PersonIdentity(
            person_id=person.id, volunteer_number="52260100012345", updated_at=clock.now()
        )
        seal(identity, IdCipher([SecretStr(ID_NUMBER_KEY)]), IdType.resident_id, ID_NUMBER)
        session.add(identity)
        await session.flush()
        issuer = Issuer("王建国", "李娟", "0855-1234567")
        mine = await register.issue(session, clock, ADMIN, TEST_SECRET, person_id=person.id, first=None,
                                    last=None, issuer=issuer)  # fmt: skip
        theirs = await register.issue(session, clock, ADMIN, TEST_SECRET, person_id=other.id, first=None,
                                      last=None, issuer=issuer)  # fmt: skip
        user = await create_volunteer_login(session, clock, person)
        ids, user_id, url = (mine.id, theirs.id), user.id, register.verify_url("http://test", mine)
    _log_in_as(client, app, user_id)
    page = await client.get("/web/m/certificate")
    assert page.status_code == 200
    assert "*" * 14 + ID_NUMBER[-4:] in page.text
    assert ID_NUMBER not in page.text
    assert f'href="/web/m/certificates/{ids[0]}.pdf"' in page.text
    if certificate_pdf.find_cjk_font() is not None:
        pdf = await client.get(f"/web/m/certificates/{ids[0]}.pdf")
        assert (pdf.status_code, pdf.content[:5]) == (200, b"%PDF-")
    assert (await client.get(f"/web/m/certificates/{ids[1]}.pdf")).status_code == 404
    client.cookies.clear()
    parts = urlsplit(url)
    check = await client.get(f"{parts.path}?{parts.query}")
    assert check.status_code == 200
    assert 'data-verdict="valid"' in check.text
    assert "1.50 小时" in check.text
