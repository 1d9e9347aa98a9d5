"""Importing people and residents from XLSX/CSV files.

Every row is checked with the API's own rules (the schemas, then ``person_values_checked`` /
``resident_values_checked``), off the event loop, and all problems are reported together. Unless
``partial`` is set, one bad row means nothing is stored. The good rows are written in chunks of
short transactions."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import UploadFile

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.db import transaction
from coordinator.errors import CoordinatorError, TooLarge
from coordinator.people.columns import PEOPLE_COLUMNS, RESIDENT_COLUMNS, Column, map_headers, row_values
from coordinator.people.field_rules import Problems
from coordinator.people.schemas import ImportResult, ImportRowError
from coordinator.people.tabular import read_table
from coordinator.people.vocabularies import load_vocabulary
from coordinator.people.writers import CheckedRow, PeopleWriter, ResidentWriter, RowWriter
from coordinator.progress import Report
from coordinator.settings import Settings
from coordinator.stations.service import get_station

ImportKind = Literal["people", "residents"]
# SQLite's busy handler looks for the writer's lock every 100 ms at most: a pause that long after
# each chunk lets a waiting request take it. Without it the next chunk won every time and a
# request waited 20 s behind a 20,000-row import.
SQLITE_PAUSE_SECONDS = 0.1
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
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    principal: Principal,
    settings: Settings,
    station_id: int,
    content: bytes,
    partial: bool,
    progress: Report | None = None,
) -> ImportResult:
    """Add or update people (keyed by phone) or ledger residents (keyed by ID number) from a file.

    Opens transactions of its own: the caller holds none (on SQLite it would hold the one writer's
    lock for the whole import)."""
    columns, writer_class = _KINDS[kind]
    principal.require_staff()
    if len(content) > settings.import_max_bytes:
        raise file_too_large(settings.import_max_bytes)
    async with transaction(sessionmaker) as session:
        await get_station(session=session, principal=principal, station_id=station_id)
        vocabulary = await load_vocabulary(session=session, station_id=station_id)
    writer = writer_class(clock=clock, station_id=station_id, vocabulary=vocabulary)
    # Parsing and checking 20,000 rows takes seconds of CPU: in a worker thread the server keeps
    # answering meanwhile.
    outcome = await asyncio.to_thread(
        _check_file, content, max_rows=settings.import_max_rows, columns=columns, writer=writer,
        progress=progress,
    )  # fmt: skip
    if outcome.errors and not partial:
        return ImportResult(created=0, updated=0, errors=_sorted(outcome.errors))
    return await _store(
        sessionmaker,
        writer,
        outcome,
        partial=partial,
        chunk_rows=settings.import_chunk_rows,
        progress=progress,
    )


def _check_file(
    content: bytes, *, max_rows: int, columns: Sequence[Column], writer: RowWriter, progress: Report | None
) -> Outcome:
    """Every row checked with the API's rules; no database needed."""
    table = read_table(content, max_rows=max_rows)
    positions = map_headers(table.headers, columns)
    outcome = Outcome()
    total = len(table.rows)
    for done, (number, cells) in enumerate(table.rows, start=1):
        raw = row_values(cells, positions, columns, writer.vocabulary)
        _check_row(writer, number, raw, outcome)
        if progress:
            progress("check", done, total)
    return outcome


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
    sessionmaker: async_sessionmaker[AsyncSession],
    writer: RowWriter,
    outcome: Outcome,
    *,
    partial: bool,
    chunk_rows: int,
    progress: Report | None,
) -> ImportResult:
    """Write the good rows in chunks, each chunk one short transaction and each row in its own
    savepoint: other requests wait for one chunk at most, never for the whole file.

    Every row was checked before the first chunk, so a bad file stores nothing. What a chunk can
    still meet is a concurrent change (a person added meanwhile with a phone of the file): the
    chunk is rolled back, reloaded and written again once, and the row then updates that person.
    Without ``partial`` the import stops at a chunk that fails again; the counts say what the
    chunks before it stored."""
    created = updated = 0
    rows = outcome.rows
    pause = SQLITE_PAUSE_SECONDS if sessionmaker.kw["bind"].dialect.name == "sqlite" else 0.0
    for start in range(0, len(rows), chunk_rows):
        if start:
            await asyncio.sleep(pause)
        chunk = rows[start : start + chunk_rows]
        written = await _store_chunk(sessionmaker, writer, chunk, partial=partial)
        if written.errors and not partial:
            written = await _store_chunk(sessionmaker, writer, chunk, partial=partial)
        outcome.errors += written.errors
        if written.errors and not partial:
            break
        created, updated = created + written.created, updated + written.updated
        if progress:
            progress("store", start + len(chunk), len(rows))
    return ImportResult(created=created, updated=updated, errors=_sorted(outcome.errors))


async def _store_chunk(
    sessionmaker: async_sessionmaker[AsyncSession],
    writer: RowWriter,
    rows: list[CheckedRow],
    *,
    partial: bool,
) -> ImportResult:
    """One transaction: committed unless a row failed and ``partial`` is off."""
    created = updated = 0
    errors: list[ImportRowError] = []
    async with sessionmaker() as session, session.begin():
        await writer.load_existing(session, rows)
        for row in rows:
            try:
                async with session.begin_nested():
                    if await writer.write(session, row.values, row.sent):
                        created += 1
                    else:
                        updated += 1
            except CoordinatorError as error:
                errors.append(_row_error(row.number, error))
        if errors and not partial:
            await session.rollback()
            return ImportResult(created=0, updated=0, errors=errors)
    return ImportResult(created=created, updated=updated, errors=errors)


def _sorted(errors: list[ImportRowError]) -> list[ImportRowError]:
    return sorted(errors, key=lambda e: e.row)
