"""The printable 服务时长证明 (certificate of volunteer hours), as a PDF drawn with fpdf2.

Chinese text needs a CJK font on the machine. We ask fontconfig (``fc-list :lang=zh``) for one,
preferring a Simplified Chinese sans-serif (Noto Sans CJK SC from Debian's ``fonts-noto-cjk``), and
fall back to well-known paths. Without any, the request answers 503 with what to install, rather
than a PDF of empty boxes.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from coordinator.errors import CoordinatorError
from coordinator.stats.person_stats import PersonRecord
from coordinator.text import printable

KNOWN_FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2: the SC face
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)


class FontMissing(CoordinatorError):
    status_code = 503
    default_code = "cjk_font_missing"


@dataclass(frozen=True)
class FontFile:
    path: str
    index: int


def _rank(family: str, path: str) -> tuple[int, int, int]:
    """Lower is better: Simplified Chinese, sans-serif, regular weight."""
    return (
        0 if " SC" in family or "CN" in family or "Hans" in family else 1,
        0 if "Sans" in family or "Hei" in family else 1,
        0 if "Bold" not in path else 1,
    )


@lru_cache(maxsize=1)
def find_cjk_font() -> FontFile | None:
    fc_list = shutil.which("fc-list")
    candidates: list[tuple[tuple[int, int, int], FontFile]] = []
    if fc_list is not None:
        try:
            listing = subprocess.run(  # noqa: S603  (a fixed command, no user input)
                [fc_list, ":lang=zh", "file", "index", "family"],
                capture_output=True, text=True, timeout=10, check=False,
            ).stdout  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            listing = ""
        for line in listing.splitlines():
            path, _, rest = line.partition(": ")
            family, _, face = rest.partition(":index=")
            if path.endswith((".ttf", ".ttc", ".otf")) and "Mono" not in family:
                candidates.append((_rank(family, path), FontFile(path, int(face or 0))))
    if candidates:
        return min(candidates, key=lambda c: c[0])[1]
    for path, index in KNOWN_FONTS:
        if Path(path).exists():
            return FontFile(path, index)
    return None


def require_font() -> FontFile:
    font = find_cjk_font()
    if font is None:
        raise FontMissing(
            "服务器未安装中文字体，无法生成证明（请安装 fonts-noto-cjk）",
            "No CJK font is installed on the server; install fonts-noto-cjk to print certificates",
        )
    return font


def certificate_pdf(record: PersonRecord, *, issued_on: date) -> bytes:
    font = require_font()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_font("cjk", fname=font.path, collection_font_number=font.index)
    pdf.add_page()
    # Names stored before input refused control characters: fpdf2 would draw them as missing glyphs.
    name, station_name = printable(record.person.name), printable(record.station.name)
    hours = round(record.minutes / 60, 1)
    pdf.set_font("cjk", size=24)
    pdf.cell(0, 20, "志愿服务时长证明", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    number = f"编号：{record.station.code}-{record.person.id}-{issued_on:%Y%m%d}"
    pdf.cell(0, 8, number, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("cjk", size=13)
    if record.activities:
        first = record.activities[0].starts_at.date()
        last = record.activities[-1].starts_at.date()
        span = f"自{first.year}年{first.month}月{first.day}日至{last.year}年{last.month}月{last.day}日，"
    else:
        span = ""
    text = (
        f"兹证明 {name} 同志{span}在{station_name}参加志愿服务活动 "
        f"{len(record.activities)} 次，累计志愿服务时长 {hours} 小时。"
    )
    pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _month_table(pdf, record)
    pdf.ln(8)
    pdf.set_font("cjk", size=13)
    pdf.cell(0, 9, "特此证明。", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(16)
    pdf.cell(0, 9, f"{station_name}（盖章）", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 9, f"{issued_on.year}年{issued_on.month}月{issued_on.day}日", align="R")
    return bytes(pdf.output())


def _month_table(pdf: FPDF, record: PersonRecord) -> None:
    pdf.set_font("cjk", size=11)
    widths = (60, 50, 60)
    # One regular face only (a bold CJK face is another 20 MB file): headings are shaded instead.
    headings = FontFace(emphasis="", fill_color=(221, 235, 247))
    with pdf.table(col_widths=widths, text_align="CENTER", headings_style=headings) as table:
        table.row(["月份", "活动次数", "服务时长（小时）"])
        for month, activities, minutes in record.by_month():
            table.row([month, str(activities), f"{minutes / 60:.1f}"])
        table.row(["合计", str(len(record.activities)), f"{record.minutes / 60:.1f}"])
