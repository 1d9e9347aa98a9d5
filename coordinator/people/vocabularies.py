"""The vocabulary service: built-in terms plus each station's custom skills and languages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.db import flush_or_raise
from coordinator.errors import Conflict
from coordinator.people.models import VocabularyTerm
from coordinator.people.schemas import TermCreate, TermOut, VocabularyOut
from coordinator.people.vocabulary import BUILTIN, RESIDENT_CATEGORIES, Term, TermKind, TermSet, Vocabulary
from coordinator.stations.service import get_station


async def load_vocabulary(*, session: AsyncSession, station_id: int) -> Vocabulary:
    rows = await session.scalars(select(VocabularyTerm).where(VocabularyTerm.station_id == station_id))
    return Vocabulary.build(
        (TermKind(row.kind), Term(row.code, row.label_zh, row.label_en, builtin=False)) for row in rows
    )


async def get_vocabulary(
    *, session: AsyncSession, principal: Principal, station_id: int | None
) -> VocabularyOut:
    """Without a station only the built-in terms; with one, also that station's own terms."""
    if station_id is None:
        vocabulary = Vocabulary.build()
    else:
        await get_station(session=session, principal=principal, station_id=station_id)
        vocabulary = await load_vocabulary(session=session, station_id=station_id)
    return VocabularyOut(
        skills=_terms_out(vocabulary.skills),
        languages=_terms_out(vocabulary.languages),
        resident_categories=_terms_out(TermSet(RESIDENT_CATEGORIES)),
    )


def _terms_out(terms: TermSet) -> list[TermOut]:
    return [TermOut.model_validate(term) for term in terms.terms.values()]


async def create_term(
    *, session: AsyncSession, clock: Clock, principal: Principal, data: TermCreate
) -> VocabularyTerm:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=data.station_id)
    taken = Conflict(
        "该代码已存在", f"{data.kind} {data.code!r} already exists", code="term_exists", field="code"
    )
    # Built-in terms are not rows, so the unique constraint cannot protect their codes.
    if any(term.code == data.code for term in BUILTIN[data.kind]):
        raise taken
    term = VocabularyTerm(**data.model_dump(), created_at=clock.now())
    session.add(term)
    await flush_or_raise(session, taken)
    return term
