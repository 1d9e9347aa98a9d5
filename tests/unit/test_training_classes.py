"""Classes of trainees and their requirement come from the settings: a province can rename the
tiers, add one, or ask more hours of one class."""

from __future__ import annotations

import pytest

from coordinator.errors import Invalid
from coordinator.settings import Settings
from coordinator.training.classes import check_classes, class_label, required_hours


def test_the_five_tiers_are_the_default_classes() -> None:
    settings = Settings()
    assert [class_label(code) for code in settings.trainee_classes] == [
        "厅级/处级干部", "民政干部", "市县社工站负责人", "乡镇（街道）社工站负责人", "一线社会工作者"
    ]  # fmt: skip


def test_classes_and_requirements_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COORDINATOR_TRAINEE_CLASSES", "social_worker, volunteer_lead")
    monkeypatch.setenv("COORDINATOR_TRAINING_REQUIRED_HOURS", "20")
    monkeypatch.setenv("COORDINATOR_TRAINING_REQUIRED_HOURS_BY_CLASS", '{"social_worker": 40}')
    settings = Settings()

    assert check_classes(settings, ["volunteer_lead", "social_worker", "volunteer_lead"], field="f") == [
        "volunteer_lead", "social_worker"
    ]  # fmt: skip
    assert (required_hours(settings, "social_worker"), required_hours(settings, "volunteer_lead")) == (40, 20)
    assert class_label("volunteer_lead") == "volunteer_lead"  # an added class shows its code
    with pytest.raises(Invalid) as refused:
        check_classes(settings, ["department_official"], field="target_classes")
    assert refused.value.code == "unknown_trainee_class"
