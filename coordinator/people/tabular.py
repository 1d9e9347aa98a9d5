"""Reading an uploaded sheet: XLSX (first worksheet) or CSV in UTF-8 (with or without BOM), GB18030 or UTF-16.

Stations keep their ledgers in Excel or WPS; "save as CSV" there writes GBK, which GB18030 covers.
Reading is bounded whatever the file claims: every row counts against the row limit (blank ones
too), columns beyond ``MAX_COLUMNS`` are not read, texts beyond ``MAX_CELL_CHARS`` are refused, and an XLSX
archive is checked before it is parsed (``archive_limits``). It is CPU work: callers run it in a
worker thread."""

from __future__ import annotations

import codecs
import csv
import io
import warnings
import zipfile
import zlib
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from coordinator.errors import Invalid
from coordinator.people.archive_limits import MAX_COLUMNS, beyond_limits, check_archive, too_many_rows

Cell = Any  # str, int, float, bool, datetime, date or None, as the file gives it

# Twice the longest field a row may fill (notes, 2,000 characters): room for spaces and typing.
MAX_CELL_CHARS = 4000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format
# What openpyxl and zipfile raise on a zip that is not a workbook, a damaged or encrypted part, or a
# damaged sheet (XML errors are SyntaxError).
_XLSX_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    EOFError,
    InvalidFileException,
    KeyError,
    OSError,
    ValueError,
    TypeError,
    SyntaxError,
)


@dataclass
class Table:
    headers: list[str]
    # (row number as the spreadsheet shows it, cells in header order)
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)


def unreadable(reason_zh: str, reason_en: str) -> Invalid:
    return Invalid(
        f"无法读取文件：{reason_zh}（请上传 XLSX 或 CSV）",
        f"Unreadable file: {reason_en} (upload XLSX or CSV)",
        code="unreadable_file",
        field="file",
    )


def read_table(content: bytes, *, max_rows: int) -> Table:
    if content.startswith(_ZIP_MAGIC):
        # openpyxl warns about workbook features it ignores (data validation, styles); none matter here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check_archive(content, max_rows)
            rows = _xlsx_rows(content, max_rows)
            with closing(rows):
                return _collect(rows, max_rows)
    if content.startswith(_OLE_MAGIC):
        raise unreadable("不支持旧版 .xls 格式，请另存为 .xlsx", "the old .xls format is not supported")
    return _collect(_csv_rows(_decode(content)), max_rows)


def _check_archive(content: bytes, max_rows: int) -> None:
    try:
        check_archive(content, max_rows=max_rows)
    except _XLSX_ERRORS as exc:
        raise unreadable("不是有效的 XLSX 文件", "not a valid XLSX file") from exc


def _xlsx_rows(content: bytes, max_rows: int) -> Generator[tuple[int, list[Cell]]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        raise unreadable("不是有效的 XLSX 文件", "not a valid XLSX file") from exc
    try:
        if not workbook.worksheets:
            raise unreadable("工作簿中没有工作表", "the workbook has no sheet")
        # Explicit bounds: openpyxl would otherwise pad every row to the sheet's declared
        # dimension (``A1:XFD1048576``: 16,384 cells a row) and yield each missing row up to it.
        sheet = workbook.worksheets[0]
        bounded = sheet.iter_rows(max_row=max_rows + 2, max_col=MAX_COLUMNS, values_only=True)
        rows = enumerate(bounded, start=1)
        while True:
            try:
                number, row = next(rows)
            except StopIteration:
                return
            except _XLSX_ERRORS as exc:
                raise unreadable("XLSX 内容损坏", "the XLSX content is damaged") from exc
            yield number, list(row)
    finally:
        workbook.close()


def _decode(content: bytes) -> str:
    try:
        if content.startswith(codecs.BOM_UTF8):
            return content.decode("utf-8-sig")
        # Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab-separated.
        if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return content.decode("utf-16")
    except UnicodeDecodeError as exc:
        raise unreadable("无法识别文件编码", "unknown text encoding") from exc
    if b"\x00" in content:
        raise unreadable("不是文本文件", "not a text file")
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise unreadable("无法识别文件编码", "unknown text encoding")


def _csv_rows(text: str) -> Iterator[tuple[int, list[Cell]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
            yield number, list(row)
    except csv.Error as exc:
        raise unreadable("CSV 格式错误", f"malformed CSV ({exc})") from exc


def _blank(cells: Iterable[Cell]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _collect(rows: Iterator[tuple[int, list[Cell]]], max_rows: int) -> Table:
    """The first non-blank row is the header; blank rows are skipped. A file may have the header
    and ``max_rows`` rows more, blank ones included: reading stops past them."""
    table: Table | None = None
    for number, row in rows:
        if number > max_rows + 1:
            raise too_many_rows(max_rows)
        cells = _bounded(number, row)
        if _blank(cells):
            continue
        if table is None:
            headers = ["" if c is None else str(c).strip() for c in cells]
            while not headers[-1]:  # the row is not blank: some header is not empty
                headers.pop()
            table = Table(headers=headers)
            continue
        width = len(table.headers)
        table.rows.append((number, (cells + [None] * width)[:width]))
    if table is None:
        raise unreadable("文件为空或没有表头", "the file is empty or has no header row")
    return table


def _bounded(number: int, cells: list[Cell]) -> list[Cell]:
    """The row's first ``MAX_COLUMNS`` cells (no import column lies further right); a text too long
    for any field is refused."""
    for column, cell in enumerate(cells[:MAX_COLUMNS], start=1):
        if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
            raise beyond_limits(
                f"第 {number} 行第 {column} 列的内容超过 {MAX_CELL_CHARS} 字",
                f"row {number}, column {column} holds more than {MAX_CELL_CHARS} characters",
                "cell_too_long",
            )
    return cells[:MAX_COLUMNS]
