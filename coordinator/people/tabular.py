"""Reading an uploaded sheet: XLSX (first worksheet) or CSV in UTF-8 (with or without BOM), GB18030 or UTF-16.

Stations keep their ledgers in Excel or WPS; "save as CSV" there writes GBK, which GB18030 covers."""

from __future__ import annotations

import codecs
import csv
import io
import warnings
import zipfile
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from coordinator.errors import Invalid, TooLarge

Cell = Any  # str, int, float, bool, datetime, date or None, as the file gives it

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format
# What openpyxl raises on a zip that is not a workbook or a damaged sheet (XML errors are SyntaxError).
_XLSX_ERRORS = (
    zipfile.BadZipFile,
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


def too_many_rows(max_rows: int) -> TooLarge:
    return TooLarge(
        f"文件行数超过上限 {max_rows} 行，请拆分后导入",
        f"The file has more than {max_rows} rows; split it",
        code="too_many_rows",
        field="file",
    )


def read_table(content: bytes, *, max_rows: int) -> Table:
    if content.startswith(_ZIP_MAGIC):
        # openpyxl warns about workbook features it ignores (data validation, styles); none matter here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = _xlsx_rows(content)
            with closing(rows):
                return _collect(rows, max_rows)
    if content.startswith(_OLE_MAGIC):
        raise unreadable("不支持旧版 .xls 格式，请另存为 .xlsx", "the old .xls format is not supported")
    return _collect(_csv_rows(_decode(content)), max_rows)


def _xlsx_rows(content: bytes) -> Generator[tuple[int, list[Cell]]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        raise unreadable("不是有效的 XLSX 文件", "not a valid XLSX file") from exc
    try:
        if not workbook.worksheets:
            raise unreadable("工作簿中没有工作表", "the workbook has no sheet")
        rows = enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1)
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
    """The first non-blank row is the header; blank rows are skipped; reading stops past ``max_rows``."""
    table: Table | None = None
    for number, cells in rows:
        if _blank(cells):
            continue
        if table is None:
            table = Table(headers=["" if c is None else str(c).strip() for c in cells])
            continue
        if len(table.rows) >= max_rows:
            raise too_many_rows(max_rows)
        width = len(table.headers)
        table.rows.append((number, (cells + [None] * width)[:width]))
    if table is None:
        raise unreadable("文件为空或没有表头", "the file is empty or has no header row")
    return table
