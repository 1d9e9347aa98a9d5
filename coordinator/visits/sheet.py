"""The printable visit sheet (入户走访记录表, A4 PDF): the itinerary's residents in walking order
with address, categories, masked phone, the last visit's needs and open follow-ups, and boxes
and lines to fill in at the door. Drawn with fpdf2 and the CJK font the certificate uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import Response
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attachments import attachment
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.events.models import Event
from coordinator.masking import mask_phone
from coordinator.stations.service import get_station
from coordinator.stats.certificate import require_font
from coordinator.stats.coverage import CATEGORY_LABELS
from coordinator.text import printable
from coordinator.visits.itineraries import Stop, itinerary_stops
from coordinator.visits.models import FollowUp, VisitRecord
from coordinator.visits.policies import checklist
from coordinator.visits.records import open_follow_ups
from coordinator.visits.schemas import NEEDS


@dataclass(frozen=True)
class SheetRow:
    stop: Stop
    last_needs: list[str]
    follow_ups: list[FollowUp]


async def sheet_rows(
    *, session: AsyncSession, clock: Clock, principal: Principal, event_id: int
) -> tuple[Event, list[SheetRow], list[dict[str, str]]]:
    event, stops = await itinerary_stops(session=session, clock=clock, principal=principal, event_id=event_id)
    ids = [s.resident.id for s in stops]
    last: dict[int, list[str]] = {}
    rows = await session.execute(
        select(VisitRecord.resident_id, VisitRecord.needs)
        .where(VisitRecord.resident_id.in_(ids))
        .order_by(VisitRecord.visited_at)
    )
    for resident_id, needs in rows:
        last[resident_id] = needs  # the latest one wins
    follow_ups = await open_follow_ups(session, ids)
    items = await checklist(session, event.station_id)
    return (
        event,
        [SheetRow(s, last.get(s.resident.id, []), follow_ups.get(s.resident.id, [])) for s in stops],
        items,
    )


def sheet_pdf(event: Event, rows: list[SheetRow], items: list[dict[str, str]], *, timezone: str) -> bytes:
    font = require_font()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("cjk", fname=font.path, collection_font_number=font.index)
    pdf.add_page()
    start = event.starts_at.astimezone(ZoneInfo(timezone))
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 12, "入户走访记录表", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(
        0,
        7,
        f"{printable(event.title)}　{_when(start)}　走访人签名：____________　____________",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for number, row in enumerate(rows, 1):
        _resident_block(pdf, number, row, items)
    return bytes(pdf.output())


def _when(start: datetime) -> str:
    return f"{start.year}年{start.month}月{start.day}日 {start:%H:%M}"


def _resident_block(pdf: FPDF, number: int, row: SheetRow, items: list[dict[str, str]]) -> None:
    resident = row.stop.resident
    if pdf.will_page_break(62):
        pdf.add_page()
    pdf.ln(3)
    pdf.set_draw_color(120, 120, 120)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1)
    pdf.set_font("cjk", size=12)
    categories = "、".join(CATEGORY_LABELS.get(c, c) for c in resident.categories)
    pdf.cell(0, 7, f"{number}. {printable(resident.name)}（{categories}）", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9.5)
    overdue = f"　已逾期{row.stop.due.days_overdue}天" if row.stop.due and row.stop.due.days_overdue else ""
    pdf.cell(
        0,
        5.5,
        f"地址：{printable(resident.address or '—')}　电话：{mask_phone(resident.phone) or '—'}{overdue}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    needs = "、".join(NEEDS[n][0] for n in row.last_needs if n in NEEDS) or "无"
    pdf.cell(0, 5.5, f"上次走访发现的需求：{needs}", new_x="LMARGIN", new_y="NEXT")
    for follow_up in row.follow_ups:
        pdf.cell(
            0,
            5.5,
            f"待跟进：{printable(follow_up.action)}（{follow_up.due_on:%m-%d}前）",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.cell(
        0, 6, "走访结果：□ 已走访　□ 不在家　□ 拒绝走访　　时间：____:____", new_x="LMARGIN", new_y="NEXT"
    )
    boxes = "　".join(f"□ {printable(item['label'])}" for item in items)
    pdf.multi_cell(0, 5.5, f"生活状况：{boxes}", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0, 5.5, "发现需求：" + "　".join(f"□ {zh}" for zh, _ in NEEDS.values()), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.cell(0, 7, "情况记录：" + "_" * 70, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, "跟进事项 / 负责人 / 期限：" + "_" * 56, new_x="LMARGIN", new_y="NEXT")


async def sheet_attachment(
    *, session: AsyncSession, clock: Clock, principal: Principal, event_id: int
) -> Response:
    """The sheet as a download, for the API and the pages alike."""
    event, rows, items = await sheet_rows(
        session=session, clock=clock, principal=principal, event_id=event_id
    )
    station = await get_station(session=session, principal=principal, station_id=event.station_id)
    return attachment(
        sheet_pdf(event, rows, items, timezone=station.timezone),
        "application/pdf",
        filename=f"入户走访记录表_{event.title}.pdf",
        fallback=f"visit-sheet-event-{event.id}.pdf",
    )
