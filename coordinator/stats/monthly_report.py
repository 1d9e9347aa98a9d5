"""The monthly report a 民政局 expects from a station, or of a region's stations together (月度工作报表),
as one formatted workbook:

1. 活动统计 — activities by theme: activities, person-times and people, Party-member participation,
   hours, residents served; a totals row whose distinct counts are recounted, not summed.
2. 入户走访 — home visits: visits, residents visited (distinct) and visit person-times; for a
   station, 走访覆盖 — coverage against its visit policies per ledger category.
3. 台账 — the ledger by category: residents on it, and how many were served this month.
4. 志愿者 — volunteers: registered, active this month, Party members, social workers, trained
   (trained: with at least one recorded skill, e.g. first aid or counselling).
5. 培训与督导 — training and supervision, in the month and in the year to its end: courses,
   sessions, trainees (by class), person-times, hours, people short of their yearly requirement;
   supervision visits, follow-ups found and closed, and those still open at the month's end.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Invalid
from coordinator.fields import parse_month
from coordinator.people.models import Person, PersonTerm, Resident, ResidentCategoryRow
from coordinator.regions.models import Region
from coordinator.settings import Settings
from coordinator.stations.models import Station
from coordinator.stats.coverage import CATEGORY_LABELS
from coordinator.stats.exports import FIGURE_HEADERS, Names
from coordinator.stats.figures import Figures, Participation
from coordinator.stats.periods import last_day_of_month, local_date
from coordinator.stats.queries import counted_events
from coordinator.stats.service import participation, select_scope
from coordinator.stats.sheets import new_workbook, to_bytes, write_table
from coordinator.supervision.schemas import SupervisionFigures
from coordinator.supervision.stats import supervision_figures
from coordinator.training.schemas import TrainingFigures
from coordinator.training.scope import Period, Scope
from coordinator.training.stats import training_figures
from coordinator.visits.coverage import VisitCoverage, visit_coverage

HOME_VISIT_THEME = "home_visit"
THEME_COLUMNS = [f for f in FIGURE_HEADERS if f != "no_show_rate"]


@dataclass(frozen=True)
class MonthlyReport:
    name: str  # of the station or the region
    code: str
    key: str  # "station-<id>" or "region-<id>", for file names in ASCII
    first: date
    last: date
    by_theme: Participation
    ledger: list[tuple[str, int, int]]  # (category, on the ledger, served this month)
    volunteers: dict[str, int]
    visits: VisitCoverage | None  # a station's coverage against its visit policies
    training: tuple[TrainingFigures, TrainingFigures]  # the month, the year to the month's end
    supervision: tuple[SupervisionFigures, SupervisionFigures]  # the same two periods

    @property
    def home_visits(self) -> Figures:
        """The home-visit row of the theme table (no visits: zeros)."""
        for key, figures in self.by_theme.rows:
            if key == (HOME_VISIT_THEME,):
                return figures
        return Figures()


async def build_report(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
    *,
    month: str,
    station_id: int | None = None,
    region_id: int | None = None,
) -> MonthlyReport:
    """The report of one station, or of every station below a region (distinct counts over them all)."""
    first = parse_month(month)
    last = last_day_of_month(first)
    selection = await select_scope(session, principal, clock, station_id=station_id, first=first, last=last,
                                   group_by=["theme"], region_id=region_id)  # fmt: skip
    if station_id is not None:
        place: Station | Region = await session.get_one(Station, station_id)
        key = f"station-{station_id}"
    elif selection.region_id is not None:
        place = await session.get_one(Region, selection.region_id)
        key = f"region-{selection.region_id}"
    else:
        raise Invalid("请选择服务站或行政区域", "Choose a station or a region",
                      code="station_or_region_required", field="station_id")  # fmt: skip
    stations = selection.station_ids or frozenset()
    by_theme = await participation(session, selection)
    events = await counted_events(session, station_ids=stations, first=first, last=last)
    served = {resident for event in events.values() for resident in event.named_residents}
    ledger = await _ledger(session, stations, served)
    volunteers = await _volunteers(session, stations, active=by_theme.totals.distinct_people)
    visits = (
        await visit_coverage(session, principal, clock, station_id=station_id, first=first, last=last)
        if station_id is not None
        else None  # coverage against the visit policies is kept per station
    )
    scope = Scope(stations, region_id=None if station_id is not None else selection.region_id,
                  station_id=station_id, name=place.name)  # fmt: skip
    in_month, to_date = Period(first, last), Period(first.replace(month=1), last)
    zone = settings.default_timezone
    today = local_date(clock.now(), zone)
    training = (await training_figures(session, settings, scope, in_month),
                await training_figures(session, settings, scope, to_date))  # fmt: skip
    supervision = (await supervision_figures(session, scope, in_month, today=today, zone=zone),
                   await supervision_figures(session, scope, to_date, today=today, zone=zone))  # fmt: skip
    return MonthlyReport(place.name, place.code, key, first, last, by_theme, ledger, volunteers, visits,
                         training, supervision)  # fmt: skip


async def _ledger(
    session: AsyncSession, station_ids: frozenset[int], served: set[int]
) -> list[tuple[str, int, int]]:
    rows = await session.execute(
        select(ResidentCategoryRow.category, Resident.id)
        .join(Resident, Resident.id == ResidentCategoryRow.resident_id)
        .where(Resident.station_id.in_(sorted(station_ids)), Resident.is_active.is_(True))
    )
    ledger: dict[str, set[int]] = defaultdict(set)
    for category, resident_id in rows:
        ledger[category].add(resident_id)
    order = [*CATEGORY_LABELS, *sorted(set(ledger) - set(CATEGORY_LABELS))]
    return [(c, len(ledger[c]), len(ledger[c] & served)) for c in order if ledger[c]]


async def _volunteers(session: AsyncSession, station_ids: frozenset[int], *, active: int) -> dict[str, int]:
    current: tuple[Any, ...] = (Person.station_id.in_(sorted(station_ids)), Person.is_active.is_(True))
    registered = await session.scalar(select(func.count()).select_from(Person).where(*current))
    party = await session.scalar(
        select(func.count()).select_from(Person).where(*current, Person.is_party_member)
    )
    social = await session.scalar(
        select(func.count()).select_from(Person).where(*current, Person.is_social_worker)
    )
    trained = await session.scalar(
        select(func.count(func.distinct(PersonTerm.person_id)))
        .join(Person, Person.id == PersonTerm.person_id)
        .where(*current, PersonTerm.kind == "skill")
    )
    return {
        "registered": registered or 0,
        "active": active,
        "party_members": party or 0,
        "social_workers": social or 0,
        "trained": trained or 0,
    }


VOLUNTEER_LABELS = {
    "registered": "在册志愿者（人）",
    "active": "本月参与服务（人）",
    "party_members": "其中党员（人）",
    "social_workers": "其中社工（人）",
    "trained": "受过技能培训（人）",
}


def render(report: MonthlyReport, names: Names) -> bytes:
    month = f"{report.first.year}年{report.first.month}月"
    workbook, sheet = new_workbook()
    sheet.title = "活动统计"
    rows = [
        [names.show("theme", key[0]), *(figures.as_dict()[f] for f in THEME_COLUMNS)]
        for key, figures in report.by_theme.rows
    ]
    totals = ["合计", *(report.by_theme.totals.as_dict()[f] for f in THEME_COLUMNS)]
    write_table(sheet, ["活动主题", *(FIGURE_HEADERS[f] for f in THEME_COLUMNS)], rows, totals=totals,
                title=f"{report.name} {month} 志愿服务活动统计")  # fmt: skip
    visits = report.home_visits
    write_table(
        workbook.create_sheet("入户走访"),
        ["走访次数", "走访居民（人）", "走访居民（人次）", "参与人次", "党员参与人次"],
        [[visits.events, visits.distinct_residents_served, visits.residents_served_person_times,
          visits.person_times, visits.party_member_person_times]],
        title=f"{report.name} {month} 入户走访",
    )  # fmt: skip
    if (coverage := report.visits) is not None:
        write_table(
            workbook.create_sheet("走访覆盖"),
            ["类别", "走访周期（天）", "在册", "应访", "已访", "按时走访", "逾期未访"],
            [[c.label, c.interval_days, c.ledger, c.due, c.visited, c.visited_on_time, c.overdue]
             for c in coverage.categories],
            totals=[f"走访{coverage.visits}人次、{coverage.residents_visited}人；在案个案{coverage.open_cases}件；"
                    f"逾期跟进{coverage.overdue_follow_ups}项", "", "", "", "", "", ""],
            title=f"{report.name} {month} 按走访制度的覆盖情况",
        )  # fmt: skip
    ledger_rows = [[CATEGORY_LABELS.get(c, c), n, served] for c, n, served in report.ledger]
    write_table(
        workbook.create_sheet("台账"),
        ["类别", "在册人数", "本月已服务人数"],
        ledger_rows,
        totals=[
            "合计（按类别计，一人可属多类）",
            sum(r[1] for r in ledger_rows),
            sum(r[2] for r in ledger_rows),
        ],
        title=f"{report.name} 服务对象台账",
    )
    write_table(
        workbook.create_sheet("志愿者"),
        ["项目", "人数"],
        [[label, report.volunteers[key]] for key, label in VOLUNTEER_LABELS.items()],
        title=f"{report.name} {month} 志愿者队伍",
    )
    write_table(
        workbook.create_sheet("培训与督导"),
        ["项目", "本月", f"本年累计（1—{report.first.month}月）"],
        _training_rows(report),
        title=f"{report.name} {month} 培训与督导",
    )
    return to_bytes(workbook)


def _training_rows(report: MonthlyReport) -> list[list[Any]]:
    """(label, the month, the year to date) of the sheet 培训与督导; blank where a figure has no
    meaning for the period (a yearly requirement in one month)."""
    (month, year), (visits, visits_year) = report.training, report.supervision
    in_month, in_year = ({c.trainee_class: c.trainees for c in f.by_class} for f in (month, year))
    classes = {c.trainee_class: c.label for c in [*year.by_class, *month.by_class]}
    return [
        ["培训班（期）", month.courses, year.courses],
        ["培训场次", month.sessions, year.sessions],
        ["参训学员（人）", month.trainees, year.trainees],
        *[[f"其中：{label}（人）", in_month.get(code, 0), in_year.get(code, 0)]
          for code, label in classes.items()],
        ["参训人次", month.person_times, year.person_times],
        ["培训学时（小时）", month.hours, year.hours],
        ["未达年度学时要求（人）", "", year.short_of_requirement],
        ["督导走访（次）", visits.visits, visits_year.visits],
        # Every finding not in order opened a follow-up, whether closed since or not.
        ["发现问题（项）", visits.findings_open + visits.findings_closed,
         visits_year.findings_open + visits_year.findings_closed],
        ["完成整改（项）", visits.findings_closed_in_period, visits_year.findings_closed_in_period],
        ["月末未整改（项）", visits.findings_open_at_end, visits_year.findings_open_at_end],
    ]  # fmt: skip
