"""Columns of import files: Chinese and English headers, and turning cells into request fields.

Cells only change shape here (是/否 → true, "急救、芦笙" → ["first_aid", "lusheng"]); whether a value
is allowed is decided afterwards by the same schemas and rules as the API."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from coordinator.errors import Invalid
from coordinator.people.tabular import Cell
from coordinator.people.vocabulary import CATEGORIES, TermSet, Vocabulary

_LIST_SEPARATORS = re.compile(r"[、,，;；/\n]+")
_HEADER_NOISE = re.compile(r"[\s*＊:：]|[（(].*?[)）]")
_TRUE = frozenset({"是", "√", "✓", "有", "y", "yes", "true", "1", "t"})
_FALSE = frozenset({"否", "×", "✗", "无", "不是", "n", "no", "false", "0", "f"})
_GENDERS = {"男": "male", "女": "female", "m": "male", "f": "female"}
_DATE_PARTS = re.compile(r"[年月/.]")

Converter = Callable[[Cell, Vocabulary], Any]


def text(cell: Cell, _: Vocabulary | None = None) -> str | None:
    """A cell as text; numbers typed into Excel (phones, counts) lose their ``.0``."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "1" if cell else "0"
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, datetime):
        cell = cell.date()
    if isinstance(cell, date):
        return cell.isoformat()
    value = str(cell).strip()
    return value or None


def boolean(cell: Cell, _: Vocabulary) -> bool | str | None:
    value = text(cell)
    if value is None:
        return None
    lowered = value.casefold()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return value  # left for the schema to refuse


def _codes(cell: Cell, terms: TermSet) -> list[str] | None:
    value = text(cell)
    if value is None:
        return None
    tokens = [t.strip() for t in _LIST_SEPARATORS.split(value) if t.strip()]
    return [terms.resolve(token) or token for token in tokens]


def skills(cell: Cell, vocabulary: Vocabulary) -> list[str] | None:
    return _codes(cell, vocabulary.skills)


def languages(cell: Cell, vocabulary: Vocabulary) -> list[str] | None:
    return _codes(cell, vocabulary.languages)


def categories(cell: Cell, _: Vocabulary) -> list[str] | None:
    return _codes(cell, CATEGORIES)


def language(cell: Cell, vocabulary: Vocabulary) -> str | None:
    value = text(cell)
    return None if value is None else vocabulary.languages.resolve(value) or value


def gender(cell: Cell, _: Vocabulary) -> str | None:
    value = text(cell)
    return None if value is None else _GENDERS.get(value.casefold(), value.casefold())


def birthday(cell: Cell, _: Vocabulary) -> str | None:
    """Dates typed as 1950年8月15日, 1950/8/15, 1950.8.15 or 8月15日 become 1950-8-15 / 8-15."""
    value = text(cell)
    if value is None:
        return None
    if isinstance(cell, datetime | date):
        return value
    return _DATE_PARTS.sub("-", value).rstrip("日号").strip("-")


@dataclass(frozen=True)
class Column:
    field: str
    label_zh: str
    aliases: tuple[str, ...]
    convert: Converter = text
    required: bool = False


PEOPLE_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", ("姓名", "名字", "name"), required=True),
    Column(
        "phone",
        "手机号",
        ("手机号", "手机", "电话", "手机号码", "联系电话", "phone", "mobile"),
        required=True,
    ),
    Column("is_party_member", "党员", ("党员", "是否党员", "party_member", "is_party_member"), boolean),
    Column("party_branch", "党支部", ("党支部", "所在党支部", "所属党支部", "party_branch")),
    Column("is_social_worker", "社工", ("社工", "是否社工", "social_worker", "is_social_worker"), boolean),
    Column("skills", "技能", ("技能", "特长", "技能特长", "skills", "skill"), skills),
    Column("languages", "语言", ("语言", "语种", "languages", "language"), languages),
    Column("email", "邮箱", ("邮箱", "电子邮箱", "email", "e-mail")),
    Column("wechat_openid", "微信openid", ("微信openid", "openid", "wechat_openid")),
    Column("max_events_per_month", "每月活动上限", ("每月活动上限", "max_events_per_month")),
)

RESIDENT_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", ("姓名", "名字", "name"), required=True),
    Column(
        "categories",
        "类别",
        ("类别", "人员类别", "类型", "帮扶类别", "categories", "category"),
        categories,
        required=True,
    ),
    Column("birthday", "生日", ("生日", "出生日期", "birthday"), birthday),
    Column("birthday_is_lunar", "农历", ("农历", "是否农历", "lunar", "birthday_is_lunar"), boolean),
    Column("birthday_leap_month", "闰月", ("闰月", "leap_month", "birthday_leap_month"), boolean),
    Column("gender", "性别", ("性别", "gender"), gender),
    Column("language", "语种", ("语种", "语言", "language"), language),
    Column("household", "户", ("户", "户主", "户号", "家庭户", "household")),
    Column("address", "地址", ("地址", "住址", "家庭住址", "address")),
    Column("phone", "手机号", ("手机号", "手机", "电话", "手机号码", "联系电话", "phone", "mobile")),
    Column("id_number", "身份证号", ("身份证号", "身份证号码", "身份证", "id_number")),
    Column("notes", "备注", ("备注", "notes")),
)


def _normalize_header(header: str) -> str:
    return _HEADER_NOISE.sub("", header).casefold()


def map_headers(headers: Sequence[str], columns: Sequence[Column]) -> dict[str, int]:
    """field → position of its column; the first matching header wins, unknown headers are ignored."""
    by_alias = {_normalize_header(alias): column.field for column in columns for alias in column.aliases}
    positions: dict[str, int] = {}
    for index, header in enumerate(headers):
        field = by_alias.get(_normalize_header(header))
        if field is not None:
            positions.setdefault(field, index)
    for column in columns:
        if column.required and column.field not in positions:
            raise Invalid(
                f"缺少必填列：{column.label_zh}（{column.field}）",
                f"Missing required column: {column.field} ({column.label_zh})",
                code="missing_column",
                field=column.field,
            )
    return positions


def row_values(
    cells: Sequence[Cell], positions: dict[str, int], columns: Sequence[Column], vocabulary: Vocabulary
) -> dict[str, Any]:
    """The request fields of one row; empty cells are left out (on update they change nothing)."""
    values: dict[str, Any] = {}
    for column in columns:
        if column.field in positions:
            value = column.convert(cells[positions[column.field]], vocabulary)
            if value is not None:
                values[column.field] = value
    return values
