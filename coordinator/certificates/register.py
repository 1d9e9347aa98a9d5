"""The register of issued certificates (志愿服务记录证明): issue, revoke, re-issue, read, and the
check that a certificate in someone's hands is one the register holds, unaltered."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Literal
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Conflict, not_found
from coordinator.pagination import paginate
from coordinator.records.models import Certificate, PersonIdentity
from coordinator.stats.periods import local_date
from coordinator.stats.person_stats import person_record

# Crockford's base32 without look-alikes: a number read aloud over the phone stays unambiguous.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class Issuer:
    person_in_charge: str
    handler: str
    contact: str


@dataclass(frozen=True)
class Verdict:
    status: Literal["valid", "revoked", "invalid"]
    certificate: Certificate | None


def hours_text(minutes: int) -> str:
    """Hours as certificates, QR codes and exports print them (the statistics' two decimals)."""
    return f"{minutes / 60:.2f}"


def _new_number(station_code: str, issued_on: date) -> str:
    # Random rather than sequential: numbers cannot be guessed to probe the verification page.
    tail = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))
    return f"{station_code}-{issued_on:%Y}-{tail}"


def check_code(secret: str, certificate: Certificate) -> str:
    """An HMAC of the certified fields under a key derived from the secret key for this purpose.
    Stored at issue, so a later change of the secret key leaves printed codes valid."""
    key = hmac.new(secret.encode(), b"certificate-check-code", hashlib.sha256).digest()
    fields = (
        certificate.number, certificate.person_id, certificate.person_name, certificate.id_number_masked,
        certificate.period_first, certificate.period_last, certificate.minutes, certificate.issuer_name,
        certificate.issued_at.isoformat(),
    )  # fmt: skip
    message = "|".join("" if f is None else str(f) for f in fields)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:20]


async def issue(
    session: AsyncSession, clock: Clock, principal: Principal, secret: str, *,
    person_id: int, first: date | None, last: date | None, issuer: Issuer, replaces_id: int | None = None,
) -> Certificate:  # fmt: skip
    """Certify the person's approved hours of counted events in [first, last] (all when left out)."""
    principal.require_staff()
    record = await person_record(session, principal, person_id, first=first, last=last)
    if not record.activities:
        raise Conflict(
            "该时间段内没有可证明的志愿服务记录",
            "There is no recorded volunteer service in this period to certify",
            code="nothing_to_certify",
        )
    identity = await session.get(PersonIdentity, person_id)
    now = clock.now()
    certificate = Certificate(
        number=_new_number(record.station.code, local_date(now, record.station.timezone)),
        station_id=record.station.id,
        person_id=person_id,
        person_name=record.person.name,
        id_type=identity.id_type if identity else None,
        id_number_masked=identity.id_number_masked if identity else None,
        volunteer_number=identity.volunteer_number if identity else None,
        period_first=first or record.activities[0].starts_at.date(),
        period_last=last or record.activities[-1].starts_at.date(),
        activities=len(record.activities),
        minutes=record.minutes,
        lines=[{"date": a.starts_at.date().isoformat(), "title": a.title, "place": a.location,
                "minutes": a.minutes} for a in record.activities],
        issuer_name=record.station.name,
        person_in_charge=issuer.person_in_charge,
        handler=issuer.handler,
        contact=issuer.contact,
        issued_by=principal.user_id or None,
        issued_at=now,
        replaces_id=replaces_id,
    )  # fmt: skip
    certificate.check_code = check_code(secret, certificate)
    session.add(certificate)
    await session.flush()
    return certificate


async def get_certificate(
    session: AsyncSession, principal: Principal, certificate_id: int, *, lock: bool = False
) -> Certificate:
    """Staff read the certificates of their stations, a volunteer their own; others get 404.
    ``lock`` takes the row's lock first (docs/concurrency.md, *Certificates*)."""
    query = select(Certificate).where(Certificate.id == certificate_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    certificate = await session.scalar(query)
    allowed = certificate is not None and (
        (principal.role is Role.volunteer and principal.person_id == certificate.person_id)
        or (principal.role is not Role.volunteer and principal.can_access(certificate.station_id))
    )
    if certificate is None or not allowed:
        raise not_found("证明", "certificate", certificate_id)
    return certificate


async def revoke(
    session: AsyncSession, clock: Clock, principal: Principal, certificate_id: int, *, reason: str
) -> Certificate:
    principal.require_staff()
    certificate = await get_certificate(session, principal, certificate_id, lock=True)
    if certificate.revoked_at is not None:
        raise Conflict("该证明已撤销", "This certificate is already revoked", code="certificate_revoked")
    certificate.revoked_at = clock.now()
    certificate.revoked_by = principal.user_id or None
    certificate.revoke_reason = reason
    await session.flush()
    return certificate


async def reissue(
    session: AsyncSession, clock: Clock, principal: Principal, secret: str, certificate_id: int, *,
    reason: str, issuer: Issuer | None,
) -> Certificate:  # fmt: skip
    """Revoke the certificate and issue a new one of the same person and period, counted afresh."""
    old = await revoke(session, clock, principal, certificate_id, reason=reason)
    issuer = issuer or Issuer(old.person_in_charge, old.handler, old.contact)
    return await issue(session, clock, principal, secret, person_id=old.person_id, first=old.period_first,
                       last=old.period_last, issuer=issuer, replaces_id=old.id)  # fmt: skip


async def list_register(
    session: AsyncSession, principal: Principal, *, station_id: int | None, person_id: int | None,
    limit: int, cursor: str | None,
) -> tuple[list[Certificate], str | None]:  # fmt: skip
    principal.require_staff()
    stmt = select(Certificate).where(principal.station_filter(Certificate.station_id))
    if station_id is not None:
        stmt = stmt.where(Certificate.station_id == station_id)
    if person_id is not None:
        stmt = stmt.where(Certificate.person_id == person_id)
    return await paginate(session, stmt, keys=[Certificate.id], limit=limit, cursor=cursor)


async def verify(session: AsyncSession, *, number: str, hours: str, code: str) -> Verdict:
    """What the public page says of a QR code: the number must be in the register and the hours
    and check code must be the register's; only then does revocation matter."""
    certificate = await session.scalar(select(Certificate).where(Certificate.number == number))
    if (
        certificate is None
        or not hmac.compare_digest(code.encode(), certificate.check_code.encode())
        or hours != hours_text(certificate.minutes)
    ):
        return Verdict("invalid", None)
    return Verdict("revoked" if certificate.revoked_at is not None else "valid", certificate)


def verify_url(public_base_url: str, certificate: Certificate) -> str:
    """What the QR code holds: the public page, the number, the hours and the check code."""
    query = urlencode({"h": hours_text(certificate.minutes), "c": certificate.check_code})
    return f"{public_base_url.rstrip('/')}/web/verify/certificates/{quote(certificate.number)}?{query}"
