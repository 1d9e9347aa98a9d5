"""The printable 志愿服务记录证明 of a registered certificate, as a PDF drawn with fpdf2.

Chinese text needs a CJK font on the machine. We ask fontconfig (``fc-list :lang=zh``) for one,
preferring TrueType outlines (WenQuanYi Micro Hei from Debian's ``fonts-wqy-microhei``): fpdf2 embeds
a CFF font such as Noto Sans CJK with an encoding that pypdf cannot read, so its text would not
extract. Then a Simplified Chinese sans-serif, and well-known paths last. Without any, the request
answers 503 with what to install, rather than a PDF of empty boxes.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.fonts import FontFace

from coordinator.attendance.recording import HOURS_RULE
from coordinator.certificates.lines import Keep, Piece, break_lines
from coordinator.certificates.register import hours_text
from coordinator.errors import CoordinatorError
from coordinator.records.identity import ID_TYPE_LABELS
from coordinator.records.models import Certificate, IdType
from coordinator.text import printable

KNOWN_FONTS = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2: the SC face
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
)


class FontMissing(CoordinatorError):
    status_code = 503
    default_code = "cjk_font_missing"


@dataclass(frozen=True)
class FontFile:
    path: str
    index: int


def _has_truetype_outlines(path: str, index: int) -> bool:
    """Whether the (collection's ``index``-th) font has TrueType outlines rather than CFF ones."""
    try:
        with open(path, "rb") as file:
            head = file.read(12 + 4 * (index + 1))
            if head[:4] == b"ttcf":
                file.seek(int.from_bytes(head[12 + 4 * index : 16 + 4 * index], "big"))
                head = file.read(4)
    except OSError:
        return False
    return head[:4] in (b"\x00\x01\x00\x00", b"true")


def _rank(family: str, path: str, index: int) -> tuple[int, int, int, int]:
    """Lower is better: TrueType outlines, Simplified Chinese, sans-serif, regular weight."""
    return (
        0 if _has_truetype_outlines(path, index) else 1,
        0 if " SC" in family or "CN" in family or "Hans" in family else 1,
        0 if "Sans" in family or "Hei" in family else 1,
        0 if "Bold" not in path else 1,
    )


@lru_cache(maxsize=1)
def find_cjk_font() -> FontFile | None:
    fc_list = shutil.which("fc-list")
    candidates: list[tuple[tuple[int, int, int, int], FontFile]] = []
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
                candidates.append((_rank(family, path, int(face or 0)), FontFile(path, int(face or 0))))
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
            "服务器未安装中文字体，无法生成证明（请安装 fonts-wqy-microhei）",
            "No CJK font is installed on the server; install fonts-wqy-microhei to print certificates",
        )
    return font


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def certificate_pdf(certificate: Certificate, *, verify_url: str, issued_on: date) -> bytes:
    """The certificate as the 办法 lays it out: identity, service, notes, issuer, number, QR code."""
    font = require_font()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_font("cjk", fname=font.path, collection_font_number=font.index)
    pdf.add_page()
    pdf.set_font("cjk", size=22)
    pdf.cell(0, 18, "志愿服务记录证明", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 7, f"证明编号：{certificate.number}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _paragraph(pdf, _statement(certificate), size=13, height=9)
    pdf.ln(3)
    _service_table(pdf, certificate)
    pdf.ln(4)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, "特此证明。", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.cell(0, 8, "说明：", new_x="LMARGIN", new_y="NEXT")
    for note in _notes():
        _paragraph(pdf, note, size=10, height=6)
    pdf.ln(4)
    _issuer_block(pdf, certificate, verify_url, issued_on)
    return bytes(pdf.output())


def _statement(certificate: Certificate) -> list[Piece]:
    # Names stored before input refused control characters: fpdf2 would draw them as missing glyphs.
    name = printable(certificate.person_name)
    identity: list[Piece] = ["（未登记实名证件）"]
    if certificate.id_type is not None and certificate.id_number_masked:
        label = ID_TYPE_LABELS.get(IdType(certificate.id_type), certificate.id_type)
        identity = ["（", Keep(f"{label}：{certificate.id_number_masked}")]
        if certificate.volunteer_number:
            identity += ["，志愿者编号：", Keep(printable(certificate.volunteer_number))]
        identity.append("）")
    return [
        Keep(f"兹证明{name}"), *identity, "于", Keep(_day(certificate.period_first)), "至",
        Keep(_day(certificate.period_last)), f"期间在{printable(certificate.issuer_name)}参加志愿服务活动",
        Keep(str(certificate.activities)), "次，累计志愿服务时长", Keep(hours_text(certificate.minutes)),
        "小时。",
    ]  # fmt: skip


def _notes() -> list[list[Piece]]:
    return [
        [f"1．{HOURS_RULE[0]}"],
        ["2．本证明依据民政部《志愿服务记录与证明出具办法（试行）》，由记录志愿服务信息的单位出具。"],
        ["3．扫描右下方二维码可核验本证明；证明编号、服务时长被改动或证明已撤销的，核验不通过。"],
    ]


def _paragraph(pdf: FPDF, pieces: list[Piece], *, size: int, height: float) -> None:
    pdf.set_font("cjk", size=size)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for line in break_lines(pieces, width, pdf.get_string_width):
        pdf.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")


def _service_table(pdf: FPDF, certificate: Certificate) -> None:
    pdf.set_font("cjk", size=10)
    # One regular face only (a bold CJK face is another 20 MB file): headings are shaded instead.
    headings = FontFace(emphasis="", fill_color=(221, 235, 247))
    with pdf.table(col_widths=(28, 82, 50, 26), text_align="CENTER", headings_style=headings) as table:
        table.row(["日期", "活动（服务内容）", "地点", "时长（小时）"])
        for line in certificate.lines:
            table.row([line["date"], printable(line["title"]), printable(line["place"] or ""),
                       hours_text(line["minutes"])])  # fmt: skip
        table.row(["合计", f"{certificate.activities} 次", "", hours_text(certificate.minutes)])


def _issuer_block(pdf: FPDF, certificate: Certificate, verify_url: str, issued_on: date) -> None:
    top = pdf.get_y()
    if top > pdf.h - 70:
        pdf.add_page()
        top = pdf.get_y()
    pdf.set_font("cjk", size=12)
    for label, value in (
        ("出具单位", f"{certificate.issuer_name}（盖章）"),
        ("负 责 人", certificate.person_in_charge),
        ("经 办 人", certificate.handler),
        ("联系电话", certificate.contact),
        ("出具日期", _day(issued_on)),
    ):
        pdf.cell(120, 8, f"{label}：{printable(value)}", new_x="LMARGIN", new_y="NEXT")
    qr = io.BytesIO()
    segno.make(verify_url, error="m").save(qr, kind="png", scale=4, border=2)
    size = 36
    pdf.image(qr, x=pdf.w - pdf.r_margin - size, y=top, w=size, h=size)
