from __future__ import annotations

import pytest
from pydantic import ValidationError

from coordinator.notify.channels.wechat_values import fit, page_path, template_data
from coordinator.settings import Settings, WechatTemplate


def test_each_key_type_gets_a_value_wechat_accepts() -> None:
    assert fit("thing1", "重阳节敬老活动") == "重阳节敬老活动"
    long = "一二三四五六七八九十" * 3
    assert fit("thing1", long) == long[:19] + "…"
    assert fit("time2", "2026-10-29T09:05:00+08:00") == "2026年10月29日 09:05"
    assert fit("date3", "2026-10-29T09:05:00+08:00") == "2026年10月29日"
    assert fit("phrase4", "请确认参加!") == "请确认参加"
    assert fit("phrase4", "时间变更了吗") == "时间变更了"
    assert fit("character_string5", "12-abc 中文" + "x" * 40) == ("12-abc" + "x" * 40)[:32]
    assert fit("phone_number6", "138 1234 1234") == "13812341234"
    assert fit("number7", "共3人") == "3"
    assert fit("thing8", "第一行\n第二行") == "第一行 第二行"
    assert fit("thing9", "") == "无"


def test_data_and_page_follow_the_template() -> None:
    template = WechatTemplate(id="T", data={"thing1": "title", "phrase2": "status"}, page="pages/x/index")
    values = {"title": "走访", "status": "即将开始", "token": "a b/c"}
    assert template_data(template, values) == {"thing1": {"value": "走访"}, "phrase2": {"value": "即将开始"}}
    assert page_path(template, values) == "pages/x/index?token=a%20b%2Fc"
    assert page_path(template, {}) == "pages/x/index"
    with_query = template.model_copy(update={"page": "pages/x/index?from=msg"})
    assert page_path(with_query, values) == "pages/x/index?from=msg&token=a%20b%2Fc"


@pytest.mark.parametrize(
    ("kind", "template", "mode", "names"),
    [
        ("reminder", {"id": "T", "data": {"title1": "title"}}, "official_account", "'reminder'.*'title1'"),
        ("reminder", {"id": "T", "data": {"thing1": "address"}}, "official_account", "'thing1'.*'address'"),
        ("changed", {"id": "T", "data": {"time2": "title"}}, "official_account", "'changed'.*'time2'"),
        ("invited", {"id": "T", "data": {"thing1": "title"}, "page": "https://x.cn"}, "mini_program", "page"),
        ("invited", {"id": "T", "data": {"thing1": "title"}, "page": "pages/i"}, "official_account", "page"),
        ("birthday", {"id": "T", "data": {"thing1": "title"}}, "official_account", "'birthday'"),
    ],
)
def test_a_wrong_template_configuration_is_refused_at_start_naming_kind_and_key(
    kind: str, template: dict[str, object], mode: str, names: str
) -> None:
    with pytest.raises(ValidationError, match=names):
        Settings(wechat_mode=mode, wechat_templates={kind: template})


def test_a_complete_configuration_is_accepted() -> None:
    settings = Settings(
        wechat_mode="mini_program",
        wechat_templates={
            "reminder": {
                "id": "T1",
                "data": {"thing1": "title", "time2": "time", "thing3": "place", "phone_number4": "phone"},
                "page": "pages/event/index",
            }
        },
    )
    assert settings.wechat_templates["reminder"].page == "pages/event/index"
