"""Answers for the API: times in the station's zone, residents' personal data masked by role."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.masking import mask_id_number, mask_phone
from coordinator.people.birthdays import age_on
from coordinator.people.field_rules import format_birthday
from coordinator.people.models import Person, Qualification, Resident
from coordinator.people.schemas import AvailabilityWindow, PersonOut, ResidentOut
from coordinator.people.vocabulary import TermKind
from coordinator.stations.models import Station


async def station_zones(session: AsyncSession, station_ids: Iterable[int]) -> dict[int, ZoneInfo]:
    ids = sorted(set(station_ids))
    if not ids:
        return {}
    rows = await session.execute(select(Station.id, Station.timezone).where(Station.id.in_(ids)))
    return {station_id: ZoneInfo(zone) for station_id, zone in rows}


def person_out(person: Person, zone: ZoneInfo) -> PersonOut:
    return PersonOut(
        id=person.id,
        station_id=person.station_id,
        name=person.name,
        phone=person.phone,
        is_party_member=person.is_party_member,
        party_branch=person.party_branch,
        is_social_worker=person.is_social_worker,
        qualification=Qualification(person.qualification) if person.qualification else None,
        skills=person.codes(TermKind.skill.value),
        languages=person.codes(TermKind.language.value),
        email=person.email,
        wechat_bound=person.wechat_openid is not None,
        wechat_refusal=person.wechat_refusal,
        max_events_per_month=person.max_events_per_month,
        availability=[AvailabilityWindow.model_validate(w) for w in person.availability],
        consent_sms=person.consent_sms,
        consent_wechat=person.consent_wechat,
        consent_email=person.consent_email,
        channel_order=person.channel_order,
        quiet_hours_start=person.quiet_hours_start,
        quiet_hours_end=person.quiet_hours_end,
        is_active=person.is_active,
        created_at=person.created_at.astimezone(zone),
        updated_at=person.updated_at.astimezone(zone),
    )


def resident_out(resident: Resident, zone: ZoneInfo, principal: Principal, now: datetime) -> ResidentOut:
    """Phone, ID number and birthday in full only for those who may see personal data at that
    station. Others get the phone's ends, the ID number's last four characters and the age instead
    of the birthday: together these never rebuild the ID number, whose middle is the birth date."""
    masked = not principal.sees_personal_data(resident.station_id)
    birthday = format_birthday(resident.birth_year, resident.birth_month, resident.birth_day)
    age = None
    if resident.birth_month is not None and resident.birth_day is not None:
        age = age_on(
            now.astimezone(zone).date(),
            year=resident.birth_year,
            month=resident.birth_month,
            day=resident.birth_day,
            is_lunar=resident.birthday_is_lunar,
        )
    return ResidentOut(
        id=resident.id,
        station_id=resident.station_id,
        name=resident.name,
        categories=resident.categories,
        birthday=None if masked else birthday,
        age=age,
        birthday_is_lunar=resident.birthday_is_lunar,
        birthday_leap_month=resident.birthday_leap_month,
        gender=resident.gender,
        language=resident.language,
        household=resident.household,
        address=resident.address,
        phone=mask_phone(resident.phone) if masked else resident.phone,
        id_number=mask_id_number(resident.id_number) if masked else resident.id_number,
        notes=resident.notes,
        is_active=resident.is_active,
        personal_data_masked=masked,
        created_at=resident.created_at.astimezone(zone),
        updated_at=resident.updated_at.astimezone(zone),
    )
