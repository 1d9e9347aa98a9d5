"""Visit records and due residents as the API answers them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from coordinator.auth.principal import Principal
from coordinator.masking import mask_phone
from coordinator.matching.schemas import ReasonOut
from coordinator.visits.due import DueResident
from coordinator.visits.itineraries import Stop
from coordinator.visits.models import FollowUp, VisitRecord
from coordinator.visits.planning import LEAD, Plan, round_and_role
from coordinator.visits.records import is_overdue
from coordinator.visits.schemas import (
    DueOut,
    FollowUpOut,
    ItineraryOut,
    PlanOut,
    StopOut,
    VisitorOut,
    VisitOut,
)


def due_out(resident: DueResident, principal: Principal) -> DueOut:
    phone = (
        resident.phone if principal.sees_personal_data(resident.station_id) else mask_phone(resident.phone)
    )
    return DueOut(
        resident_id=resident.resident_id,
        station_id=resident.station_id,
        name=resident.name,
        categories=sorted(resident.categories),
        area=resident.area,
        address=resident.address,
        language=resident.language,
        phone=phone,
        last_visited_at=resident.last_visited_at,
        interval_days=resident.interval_days,
        policy_category=resident.policy_category,
        due_on=resident.due_on,
        days_overdue=resident.days_overdue,
        planned_event_id=resident.planned_event_id,
    )


def visit_out(record: VisitRecord, today: date) -> VisitOut:
    return VisitOut(
        id=record.id,
        resident_id=record.resident_id,
        station_id=record.station_id,
        event_id=record.event_id,
        visited_at=record.visited_at,
        outcome=record.outcome,
        conditions=record.conditions,
        needs=record.needs,
        notes=record.notes,
        follow_ups=[follow_up_out(f, today) for f in record.follow_ups],
    )


def follow_up_out(follow_up: FollowUp, today: date) -> FollowUpOut:
    return FollowUpOut(
        id=follow_up.id,
        resident_id=follow_up.resident_id,
        visit_record_id=follow_up.visit_record_id,
        action=follow_up.action,
        owner_person_id=follow_up.owner_person_id,
        due_on=follow_up.due_on,
        done_at=follow_up.done_at,
        overdue=is_overdue(follow_up, today),
    )


def stop_out(resident: DueResident) -> StopOut:
    return StopOut(
        resident_id=resident.resident_id,
        name=resident.name,
        address=resident.address,
        categories=sorted(resident.categories),
        language=resident.language,
        due_on=resident.due_on,
        days_overdue=resident.days_overdue,
    )


def plan_out(plan: Plan) -> PlanOut:
    visitors: dict[int, list[VisitorOut]] = defaultdict(list)
    for proposal in plan.result.proposals:
        index, role = round_and_role(proposal.role_id)
        reasons = [ReasonOut(code=r.code, zh=r.text_zh, en=r.text_en) for r in proposal.reasons]
        visitors[index].append(
            VisitorOut(
                person_id=proposal.person_id,
                name=plan.names[proposal.person_id],
                role=role,
                score=round(proposal.score, 6),
                reasons=reasons,
            )
        )
    unfilled: dict[int, list[str]] = defaultdict(list)
    for role_id, places in sorted(plan.result.unfilled.items(), reverse=True):
        if places:
            index, role = round_and_role(role_id)
            unfilled[index].append(role)
    return PlanOut(
        itineraries=[
            ItineraryOut(
                date=r.day,
                starts_at=r.starts_at,
                ends_at=r.ends_at,
                area=r.area,
                stops=[stop_out(s) for s in r.stops],
                visitors=sorted(visitors[k], key=lambda v: v.role != LEAD),
                unfilled=unfilled[k],
            )
            for k, r in enumerate(plan.rounds)
        ],
        unplanned=plan.unplanned,
    )


def itinerary_stop_out(stop: Stop) -> StopOut:
    return StopOut(
        resident_id=stop.resident.id,
        name=stop.resident.name,
        address=stop.resident.address,
        categories=stop.resident.categories,
        language=stop.resident.language,
        due_on=stop.due.due_on if stop.due else None,
        days_overdue=stop.due.days_overdue if stop.due else None,
    )
