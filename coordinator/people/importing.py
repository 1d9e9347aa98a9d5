"""Importing people and residents from XLSX/CSV files.

Every row is checked with the API's own rules (the schemas, then ``person_values_checked`` /
``resident_values_checked``) and all problems are reported together. Unless ``partial`` is set,
one bad row means nothing is stored."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import CoordinatorError, TooLarge
from coordinator.people.columns import PEOPLE_COLUMNS, RESIDENT_COLUMNS, Column, map_headers, row_values
from coordinator.people.field_rules import Problems
from coordinator.people.schemas import ImportResult, ImportRowError
from coordinator.people.tabular import read_table
from coordinator.people.vocabularies import load_vocabulary
from coordinator.people.vocabulary import Vocabulary
from coordinator.people.writers import CheckedRow, PeopleWriter, ResidentWriter, RowWriter
from coordinator.progress import Report
from coordinator.settings import Settings
from coordinator.stations.service import get_station

ImportKind = Literal["people", "residents"]
_KINDS: dict[ImportKind, tuple[Sequence[Column], type[RowWriter]]] = {
    "people": (PEOPLE_COLUMNS, PeopleWriter),
    "residents": (RESIDENT_COLUMNS, ResidentWriter),
}


@dataclass
class Outcome:
    rows: list[CheckedRow] = field(default_factory=list)
    errors: list[ImportRowError] = field(default_factory=list)


def file_too_large(max_bytes: int) -> TooLarge:
    return TooLarge(
        f"文件超过 {max_bytes // 1024} KB 上限",
        f"The file is larger than {max_bytes} bytes",
        code="file_too_large",
    )


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    # Read one byte past the limit: enough to know the file is too large without holding all of it.
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise file_too_large(max_bytes)
    return content


async def import_records(
    *,
    kind: ImportKind,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    settings: Settings,
    station_id: int,
    content: bytes,
    partial: bool,
    progress: Report | None = None,
) -> ImportResult:
    """Add or update people (keyed by phone) or ledger residents (keyed by ID number) from a file."""
    columns, writer_class = _KINDS[kind]
    return await _import(
        session=session,
        principal=principal,
        settings=settings,
        station_id=station_id,
        content=content,
        partial=partial,
        progress=progress,
        columns=columns,
        writer=lambda vocabulary: writer_class(
            session=session, clock=clock, station_id=station_id, vocabulary=vocabulary
        ),
    )


async def _import(
    *,
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    station_id: int,
    content: bytes,
    partial: bool,
    progress: Report | None,
    columns: Sequence[Column],
    writer: Callable[[Vocabulary], RowWriter],
) -> ImportResult:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=station_id)
    if len(content) > settings.import_max_bytes:
        raise file_too_large(settings.import_max_bytes)
    table = read_table(content, max_rows=settings.import_max_rows)
    positions = map_headers(table.headers, columns)
    vocabulary = await load_vocabulary(session=session, station_id=station_id)
    rows_writer = writer(vocabulary)
    outcome = Outcome()
    total = len(table.rows)
    for done, (number, cells) in enumerate(table.rows, start=1):
        raw = row_values(cells, positions, columns, vocabulary)
        _check_row(rows_writer, number, raw, outcome)
        if progress:
            progress("check", done, total)
    if outcome.errors and not partial:
        return ImportResult(created=0, updated=0, errors=_sorted(outcome.errors))
    return await _store(session, rows_writer, outcome, partial=partial, progress=progress)


def _check_row(writer: RowWriter, number: int, raw: dict[str, Any], outcome: Outcome) -> None:
    errors: list[ImportRowError] = []
    model = _validate(writer.schema, {"station_id": writer.station_id, **raw}, number, errors)
    if model is None:
        outcome.errors += errors
        return
    problems = Problems()
    values = writer.check(model, problems)
    errors += [_row_error(number, e) for e in problems.errors]
    if not errors and (duplicate := writer.claim_key(number, values)) is not None:
        errors.append(duplicate)
    if errors:
        outcome.errors += errors
    else:
        outcome.rows.append(CheckedRow(number=number, values=values, sent=set(raw)))


def _validate(
    schema: type[BaseModel], raw: dict[str, Any], number: int, errors: list[ImportRowError]
) -> BaseModel | None:
    """The row as the API's request model. Fields failing the schema are reported and left out,
    so the rules still check the rest of the row."""
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        errors += [
            ImportRowError(
                row=number,
                field=".".join(str(p) for p in e["loc"]) or None,
                code="missing_value" if e["type"] == "missing" else "validation_error",
                message=f"内容有误：{e['msg']}",
                message_en=e["msg"],
            )
            for e in exc.errors()
        ]
    try:
        model = schema.model_validate({k: v for k, v in raw.items() if k not in bad})
    except ValidationError:
        return None
    return model


def _row_error(number: int, error: CoordinatorError) -> ImportRowError:
    return ImportRowError(
        row=number, field=error.field, code=error.code, message=error.message, message_en=error.message_en
    )


async def _store(
    session: AsyncSession,
    writer: RowWriter,
    outcome: Outcome,
    *,
    partial: bool,
    progress: Report | None,
) -> ImportResult:
    """Write the good rows, each in its own savepoint; all or none of them unless ``partial``."""
    await writer.load_existing(outcome.rows)
    created = updated = 0
    everything = await session.begin_nested()
    for done, row in enumerate(outcome.rows, start=1):
        try:
            async with session.begin_nested():
                if await writer.write(row.values, row.sent):
                    created += 1
                else:
                    updated += 1
        except CoordinatorError as error:
            outcome.errors.append(_row_error(row.number, error))
        if progress:
            progress("store", done, len(outcome.rows))
    if outcome.errors and not partial:
        await everything.rollback()
        return ImportResult(created=0, updated=0, errors=_sorted(outcome.errors))
    await everything.commit()
    return ImportResult(created=created, updated=updated, errors=_sorted(outcome.errors))


def _sorted(errors: list[ImportRowError]) -> list[ImportRowError]:
    return sorted(errors, key=lambda e: e.row)
