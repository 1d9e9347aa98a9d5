"""Classes of trainees (the five tiers of the Ningxia model, configurable) and each class's yearly
training requirement."""

from __future__ import annotations

from collections.abc import Iterable

from coordinator.errors import Invalid
from coordinator.settings import Settings

CLASS_LABELS = {
    "department_official": "厅级/处级干部",
    "civil_affairs_staff": "民政干部",
    "city_county_lead": "市县社工站负责人",
    "township_station_lead": "乡镇（街道）社工站负责人",
    "social_worker": "一线社会工作者",
}


def class_label(code: str) -> str:
    return CLASS_LABELS.get(code, code)


def check_classes(settings: Settings, codes: Iterable[str], *, field: str) -> list[str]:
    """``codes`` without repeats, each one a configured class; 422 ``unknown_trainee_class`` otherwise."""
    known = settings.trainee_classes
    found = list(dict.fromkeys(codes))
    if unknown := [code for code in found if code not in known]:
        raise Invalid(
            f"未知的学员类别：{', '.join(unknown)}（可选：{', '.join(known)}）",
            f"Unknown trainee classes: {', '.join(unknown)} (configured: {', '.join(known)})",
            code="unknown_trainee_class",
            field=field,
        )
    return found


def required_hours(settings: Settings, trainee_class: str) -> float:
    """Hours a person of ``trainee_class`` must train in a calendar year."""
    return settings.training_required_hours_by_class.get(trainee_class, settings.training_required_hours)
