"""Building import files in tests: real XLSX workbooks (openpyxl) and CSV in a chosen encoding."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

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
