"""Formatted worksheets for exports and reports: bold header, fitted widths, frozen header row,
an optional bold totals row. A 民政局 opens these in Excel or WPS as they are.

Every XLSX and CSV the service writes goes through ``write_table`` or ``table_csv``, so every cell
passes ``inert``: a name typed as ``=HYPERLINK(…)`` stays text (CWE-1236)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from coordinator.text import printable

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
MAX_WIDTH = 40
# Excel, WPS and LibreOffice read text starting with one of these as a formula (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """``value`` as a spreadsheet must show it: text loses the control characters a workbook
    cannot hold (openpyxl refuses them), and text that would start a formula gets a leading
    apostrophe (OWASP's advice; it also survives a round trip through CSV); numbers and dates
    are unchanged."""
    if not isinstance(value, str):
        return value
    value = printable(value, multiline=True)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _inert_row(row: Sequence[Any]) -> list[Any]:
    return [inert(value) for value in row]


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    # A CJK character is about two Latin characters wide.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_table(
    sheet: Worksheet,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    totals: Sequence[Any] | None = None,
    title: str | None = None,
) -> None:
    """Write a titled table starting at the top of ``sheet``."""
    if title:
        sheet.append([inert(title)])
        sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    sheet.append(_inert_row(headers))
    header_row = sheet.max_row
    for column in range(1, len(headers) + 1):
        cell = sheet.cell(row=header_row, column=column)
        cell.font, cell.fill = BOLD, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        sheet.append(_inert_row(row))
    if totals is not None:
        sheet.append(_inert_row(totals))
        for column in range(1, len(headers) + 1):
            sheet.cell(row=sheet.max_row, column=column).font = BOLD
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    for column in range(1, len(headers) + 1):
        values = [
            headers[column - 1],
            *(r[column - 1] for r in rows),
            *([totals[column - 1]] if totals else []),
        ]
        width = min(MAX_WIDTH, max(_width(v) for v in values) + 2)
        sheet.column_dimensions[get_column_letter(column)].width = max(width, 8)


def new_workbook() -> tuple[Workbook, Worksheet]:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has one sheet
    return workbook, sheet


def to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]], totals: Sequence[Any]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel on Chinese Windows opens it without mojibake."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_inert_row(headers))
    writer.writerows(_inert_row(row) for row in rows)
    writer.writerow(_inert_row(totals))
    return buffer.getvalue().encode("utf-8-sig")
