"""What an XLSX archive may hold, checked before openpyxl opens it.

openpyxl turns XML into Python objects: shared strings all at once, styles and the workbook part
as whole trees, worksheets row by row. A few kilobytes of zip can unpack into gigabytes of such
objects (a zip bomb, millions of tiny shared strings, millions of empty ``<row/>``), so the
archive's own directory and a quick count of the elements are checked first."""

from __future__ import annotations

import io
import re
import zipfile

from coordinator.errors import Invalid

MAX_COLUMNS = 64
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
MAX_ENTRIES = 1000
# Parts parsed into a whole tree at once (styles, the workbook part, properties). Excel's own
# limit of 64,000 cell formats fits in about 4 MB.
MAX_TREE_PART_BYTES = 4 * 1024 * 1024
# Distinct texts per row that a ledger may need (name, address, household, notes …), with room.
STRINGS_PER_ROW = 16

# The root element of a part, after an optional byte-order mark and XML declaration.
_ROOT = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?<(?:\w+:)?(worksheet|sst)[\s>]")
_ELEMENT = {
    "row": re.compile(rb"<(?:\w+:)?row[\s>/]"),
    "cell": re.compile(rb"<(?:\w+:)?c[\s>/]"),
    "string": re.compile(rb"<(?:\w+:)?si[\s>/]"),
}


def beyond_limits(reason_zh: str, reason_en: str, code: str) -> Invalid:
    return Invalid(
        f"文件超出导入上限：{reason_zh}，请删除多余内容或拆分后导入",
        f"The file is beyond the import limits: {reason_en}; remove what is not needed or split it",
        code=code,
        field="file",
    )


def too_many_rows(max_rows: int) -> Invalid:
    return beyond_limits(
        f"超过 {max_rows} 行（空行也计算在内）",
        f"more than {max_rows} rows (blank rows count too)",
        "too_many_rows",
    )


def check_archive(content: bytes, *, max_rows: int) -> None:
    """Refuse an archive that would unpack or parse into more than an import of ``max_rows``
    rows needs. ``zipfile`` never unpacks more than an entry's declared size, so the directory's
    sizes are binding."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise beyond_limits(
                f"包含超过 {MAX_ENTRIES} 个部件", f"more than {MAX_ENTRIES} parts", "too_many_parts"
            )
        if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
            megabytes = MAX_UNPACKED_BYTES // (1024 * 1024)
            raise beyond_limits(
                f"解压后超过 {megabytes} MB", f"more than {megabytes} MB unpacked", "unpacked_too_large"
            )
        for entry in entries:
            _check_part(archive, entry, max_rows)


def _check_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, max_rows: int) -> None:
    with archive.open(entry) as part:
        root = _ROOT.match(part.read(1024))
    if root is None:
        if entry.file_size > MAX_TREE_PART_BYTES:
            limit, name = MAX_TREE_PART_BYTES // (1024 * 1024), entry.filename[:80]
            raise beyond_limits(
                f"部件 {name} 解压后超过 {limit} MB",
                f"part {name} is more than {limit} MB unpacked",
                "part_too_large",
            )
        return
    data = archive.read(entry)
    if root.group(1) == b"sst":
        limit = (max_rows + 1) * STRINGS_PER_ROW
        if _more_than(_ELEMENT["string"], data, limit):
            raise beyond_limits(
                f"共享文本超过 {limit} 条", f"more than {limit} shared strings", "too_many_strings"
            )
        return
    # Every row of every sheet counts, blank ones too: openpyxl reads all sheets' sizes.
    if _more_than(_ELEMENT["row"], data, max_rows + 1):
        raise too_many_rows(max_rows)
    cells = (max_rows + 1) * MAX_COLUMNS
    if _more_than(_ELEMENT["cell"], data, cells):
        raise beyond_limits(f"单元格超过 {cells} 个", f"more than {cells} cells", "too_many_cells")


def _more_than(element: re.Pattern[bytes], data: bytes, limit: int) -> bool:
    """Whether ``element`` occurs more than ``limit`` times; stops counting there."""
    return any(count > limit for count, _ in enumerate(element.finditer(data), start=1))
