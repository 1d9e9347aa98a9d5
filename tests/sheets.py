"""Building import files in tests: real XLSX workbooks (openpyxl) and CSV in a chosen encoding."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence

from openpyxl import Workbook

Row = Sequence[object]
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def xlsx(header: Row, *rows: Row) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_with(parts: Mapping[str, bytes], header: Row = ("姓名", "手机")) -> bytes:
    """A workbook made by openpyxl with some of its parts (``xl/worksheets/sheet1.xml`` …)
    replaced or added: for files no spreadsheet program would write."""
    written = zipfile.ZipFile(io.BytesIO(xlsx(header)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in written.namelist():
            archive.writestr(name, parts.get(name, written.read(name)))
        for name in parts.keys() - set(written.namelist()):
            archive.writestr(name, parts[name])
    return buffer.getvalue()


def sheet_xml(rows: str, dimension: str = "A1:B1") -> bytes:
    """A worksheet part holding ``rows`` (``<row>`` elements) with inline strings."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    ).encode()


def inline_row(number: int, *cells: tuple[str, str]) -> str:
    """A ``<row>`` of (column letter, text) cells."""
    inner = "".join(f'<c r="{col}{number}" t="inlineStr"><is><t>{text}</t></is></c>' for col, text in cells)
    return f'<row r="{number}">{inner}</row>'


def csv_bytes(header: Row, *rows: Row, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def id_number(region: str = "522601", birth: str = "19480815", sequence: str = "123") -> str:
    """A resident ID number with a correct check digit."""
    body = region + birth + sequence
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def with_wrong_check_digit(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last
