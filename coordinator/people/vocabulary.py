"""Managed vocabularies: the built-in skills, languages and resident categories.

Stations add their own skills and languages (``VocabularyTerm`` rows); a ``Vocabulary`` joins
both so that the API and the importer accept exactly the same codes and labels."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class TermKind(StrEnum):
    skill = "skill"
    language = "language"


@dataclass(frozen=True)
class Term:
    code: str
    label_zh: str
    label_en: str
    builtin: bool = True


SKILLS: tuple[Term, ...] = (
    Term("first_aid", "急救", "First aid"),
    Term("haircut", "理发", "Haircut"),
    Term("photography", "摄影", "Photography"),
    Term("tutoring", "课业辅导", "Homework tutoring"),
    Term("counseling", "心理疏导", "Counseling"),
    Term("lusheng", "芦笙", "Lusheng (reed pipes)"),
    Term("elderly_care", "助老服务", "Elderly care"),
    Term("cooking", "烹饪", "Cooking"),
    Term("driving", "驾驶", "Driving"),
    Term("medical", "医疗", "Medical care"),
    Term("legal_aid", "法律援助", "Legal aid"),
    Term("repair", "家电维修", "Appliance repair"),
    Term("singing_dancing", "歌舞", "Singing and dancing"),
    Term("embroidery", "刺绣", "Embroidery"),
    Term("batik", "蜡染", "Batik"),
    Term("calligraphy", "书法", "Calligraphy"),
    Term("childcare", "儿童看护", "Childcare"),
    Term("computer", "电脑操作", "Computer skills"),
    Term("publicity", "宣传", "Publicity"),
    Term("translation", "翻译", "Interpreting"),
    Term("home_visit", "入户走访（已培训）", "Trained for home visits"),
)

LANGUAGES: tuple[Term, ...] = (
    Term("mandarin", "普通话", "Mandarin"),
    Term("miao", "苗语", "Miao (Hmong)"),
    Term("dong", "侗语", "Dong (Kam)"),
    Term("bouyei", "布依语", "Bouyei"),
    Term("shui", "水语", "Sui"),
    Term("yi", "彝语", "Yi"),
    Term("zhuang", "壮语", "Zhuang"),
    Term("yao", "瑶语", "Yao"),
    Term("tujia", "土家语", "Tujia"),
    Term("gelao", "仡佬语", "Gelao"),
    Term("southwestern_mandarin", "西南官话", "Southwestern Mandarin"),
    Term("cantonese", "粤语", "Cantonese"),
    Term("english", "英语", "English"),
    Term("sign_language", "手语", "Sign language"),
)


class ResidentCategory(StrEnum):
    low_income = "low_income"
    extreme_poverty = "extreme_poverty"
    empty_nest_elderly = "empty_nest_elderly"
    left_behind_child = "left_behind_child"
    left_behind_woman = "left_behind_woman"
    left_behind_elderly = "left_behind_elderly"
    child_in_difficulty = "child_in_difficulty"
    disabled = "disabled"
    migrant_worker = "migrant_worker"
    migrant_child = "migrant_child"


RESIDENT_CATEGORIES: tuple[Term, ...] = (
    Term(ResidentCategory.low_income, "低保", "Minimum-living-allowance household"),
    Term(ResidentCategory.extreme_poverty, "特困", "Extreme poverty support"),
    Term(ResidentCategory.empty_nest_elderly, "空巢老人", "Empty-nest elderly"),
    Term(ResidentCategory.left_behind_child, "留守儿童", "Left-behind child"),
    Term(ResidentCategory.left_behind_woman, "留守妇女", "Left-behind woman"),
    Term(ResidentCategory.left_behind_elderly, "留守老人", "Left-behind elderly"),
    Term(ResidentCategory.child_in_difficulty, "困境儿童", "Child in difficulty"),
    Term(ResidentCategory.disabled, "残疾人", "Person with disability"),
    Term(ResidentCategory.migrant_worker, "进城务工人员", "Migrant worker"),
    Term(ResidentCategory.migrant_child, "随迁子女", "Migrant worker's child"),
)

BUILTIN: dict[TermKind, tuple[Term, ...]] = {TermKind.skill: SKILLS, TermKind.language: LANGUAGES}


class TermSet:
    """Terms of one kind, found by code or by their Chinese or English label."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms: dict[str, Term] = {}
        self._by_label: dict[str, str] = {}
        for term in terms:
            self.terms.setdefault(term.code, term)
            for label in (term.code, term.label_zh, term.label_en):
                self._by_label.setdefault(label.strip().casefold(), term.code)

    @property
    def codes(self) -> list[str]:
        return list(self.terms)

    def __contains__(self, code: object) -> bool:
        return code in self.terms

    def resolve(self, text: str) -> str | None:
        """The code of the term written as ``text`` (a code or a label), or None if unknown."""
        return self._by_label.get(text.strip().casefold())


@dataclass(frozen=True)
class Vocabulary:
    """The skills and languages one station may use: the built-in ones plus its custom terms."""

    skills: TermSet
    languages: TermSet

    @classmethod
    def build(cls, custom: Iterable[tuple[TermKind, Term]] = ()) -> Vocabulary:
        extra: dict[TermKind, list[Term]] = {TermKind.skill: [], TermKind.language: []}
        for kind, term in custom:
            extra[kind].append(term)
        return cls(
            skills=TermSet([*SKILLS, *extra[TermKind.skill]]),
            languages=TermSet([*LANGUAGES, *extra[TermKind.language]]),
        )

    def of(self, kind: TermKind) -> TermSet:
        return self.skills if kind is TermKind.skill else self.languages


CATEGORIES = TermSet(RESIDENT_CATEGORIES)
