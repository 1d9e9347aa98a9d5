"""Field rules shared by the API and the importer: phones, ID numbers, vocabularies, birthdays.

Each rule raises ``Invalid`` with its own machine code; ``Problems`` collects them so that an
import can report every problem of a row while the API answers the first one."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from coordinator.errors import Invalid
from coordinator.people.birthdays import validate_birthday
from coordinator.people.vocabulary import CATEGORIES, TermKind, TermSet, Vocabulary

T = TypeVar("T")

_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_BIRTHDAY = re.compile(r"^(?:(\d{4})-)?(\d{1,2})-(\d{1,2})$")
_TERM_NAMES = {TermKind.skill: ("技能", "skill"), TermKind.language: ("语言", "language")}


class Problems:
    """The rule violations of one record."""

    def __init__(self) -> None:
        self.errors: list[Invalid] = []

    def check(self, rule: Callable[[], T]) -> T | None:
        try:
            return rule()
        except Invalid as error:
            self.errors.append(error)
            return None

    def raise_first(self) -> None:
        """For the API: answer with the first problem and list all of them in ``details``."""
        if not self.errors:
            return
        first = self.errors[0]
        if len(self.errors) > 1:
            first.details = {
                **(first.details or {}),
                "problems": [{"field": e.field, "code": e.code, "message": e.message} for e in self.errors],
            }
        raise first


def normalize_phone(value: str, *, field: str = "phone") -> str:
    """A mainland China mobile number in E.164 (``+8613812341234``), whatever the spacing or prefix."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is None
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.region_code_for_number(number) != "CN"
        or phonenumbers.number_type(number) not in _MOBILE_TYPES
    ):
        raise Invalid(
            "手机号无效，请填写11位中国大陆手机号",
            "Invalid phone: give an 11-digit mainland China mobile number",
            code="invalid_phone",
            field=field,
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def normalize_id_number(value: str, *, field: str = "id_number") -> str:
    """An 18-character resident ID number (居民身份证号码) with a valid birth date and check digit."""
    text = value.strip().upper()
    if not _ID_SHAPE.match(text) or not _valid_birth_date(text[6:14]) or _check_char(text) != text[17]:
        raise Invalid(
            "身份证号无效（应为18位，且校验位正确）",
            "Invalid ID number: 18 characters with a correct check digit are required",
            code="invalid_id_number",
            field=field,
        )
    return text


def _check_char(id_number: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(id_number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _valid_birth_date(digits: str) -> bool:
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return True


def check_terms(vocabulary: Vocabulary, kind: TermKind, codes: Sequence[str], *, field: str) -> list[str]:
    """The codes, de-duplicated in their order; an unknown one names the field and the allowed codes."""
    allowed = vocabulary.of(kind)
    unknown = [code for code in codes if code not in allowed]
    if unknown:
        zh, en = _TERM_NAMES[kind]
        raise Invalid(
            f"未知的{zh}：{'、'.join(unknown)}；可选：{_labels(allowed)}",
            f"Unknown {en} {', '.join(unknown)}; allowed: {', '.join(allowed.codes)}",
            code=f"unknown_{en}",
            field=field,
            details={"unknown": unknown, "allowed": allowed.codes},
        )
    return list(dict.fromkeys(codes))


def _labels(terms: TermSet) -> str:
    return "、".join(f"{term.label_zh}（{term.code}）" for term in terms.terms.values())


def check_categories(categories: Sequence[str], *, field: str = "categories") -> list[str]:
    if not categories:
        raise Invalid(
            "请至少选择一个人员类别",
            "At least one category is required",
            code="categories_required",
            field=field,
        )
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise Invalid(
            f"未知的人员类别：{'、'.join(unknown)}；可选：{_labels(CATEGORIES)}",
            f"Unknown category {', '.join(unknown)}; allowed: {', '.join(CATEGORIES.codes)}",
            code="unknown_category",
            field=field,
            details={"unknown": unknown, "allowed": CATEGORIES.codes},
        )
    return sorted(set(categories))


def parse_birthday(
    text: str, *, is_lunar: bool, leap_month: bool, field: str = "birthday"
) -> tuple[int | None, int, int]:
    """``YYYY-MM-DD`` or ``MM-DD`` (solar or lunar) → (year or None, month, day)."""
    match = _BIRTHDAY.match(text.strip())
    problem = "use YYYY-MM-DD or MM-DD"
    if match:
        year = int(match.group(1)) if match.group(1) else None
        month, day = int(match.group(2)), int(match.group(3))
        try:
            validate_birthday(year=year, month=month, day=day, is_lunar=is_lunar, leap_month=leap_month)
        except ValueError as exc:
            problem = str(exc)
        else:
            return year, month, day
    raise Invalid(
        "生日无效：请填写存在的日期，格式为 年-月-日 或 月-日",
        f"Invalid birthday: {problem}",
        code="invalid_birthday",
        field=field,
    )


def format_birthday(year: int | None, month: int | None, day: int | None) -> str | None:
    if month is None or day is None:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year is not None else f"{month:02d}-{day:02d}"
