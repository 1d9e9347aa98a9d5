"""The check-list a supervision visit goes through (configurable, ``COORDINATOR_SUPERVISION_CHECKLIST``)."""

from __future__ import annotations

from coordinator.errors import Invalid
from coordinator.settings import Settings

ITEM_LABELS = {
    "ledger_kept": "服务台账规范",
    "activities_held": "按计划开展活动",
    "records_complete": "档案资料齐全",
    "staff_on_duty": "社工在岗",
    "signage_displayed": "标识标牌规范",
}


def item_label(code: str) -> str:
    return ITEM_LABELS.get(code, code)


def check_item(settings: Settings, code: str, *, field: str) -> str:
    if code not in settings.supervision_checklist:
        raise Invalid(
            f"督导清单中没有此项：{code}",
            f"Not an item of the supervision check-list: {code}",
            code="unknown_checklist_item",
            field=field,
        )
    return code
