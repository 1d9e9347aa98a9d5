"""Deterministic, realistic names and numbers for the demo data of Kaili (黔东南, 苗族侗族自治州)."""

from __future__ import annotations

import random
from datetime import date

# Common surnames of Kaili's Miao, Dong and Han families.
SURNAMES = list("杨吴龙潘王张李刘石欧邰顾罗陈韦姚田文蒋万胡邓谢")
GIVEN_MALE = list("明伟强军光华建国文斌海勇平德林松顺福宝金刚志成学胜")
GIVEN_FEMALE = list("芳英梅秀兰娟丽燕霞玲红萍花艳琴敏慧婷雪莉珍凤桂仙妹")
MOBILE_PREFIXES = (
    "133",
    "135",
    "136",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "177",
    "180",
    "182",
    "183",
    "187",
    "188",
    "189",
    "199",
)
# 522601: 凯里市 (the ID-number region code of Kaili).
KAILI_REGION = "522601"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def person_name(rng: random.Random, female: bool) -> str:
    given = GIVEN_FEMALE if female else GIVEN_MALE
    length = rng.choice((1, 2, 2))
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(length))


class UniquePhones:
    """Mainland mobile numbers, never the same twice within one demo load."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def next(self) -> str:
        while True:
            number = self._rng.choice(MOBILE_PREFIXES) + f"{self._rng.randrange(10**8):08d}"
            if number not in self._seen:
                self._seen.add(number)
                return "+86" + number


def id_number(rng: random.Random, birthday: date, female: bool) -> str:
    """An 18-character resident ID with a valid check digit (GB 11643)."""
    sequence = rng.randrange(0, 50) * 2 + (0 if female else 1)
    body = f"{KAILI_REGION}{birthday:%Y%m%d}{rng.randrange(10):01d}{sequence:02d}"
    checksum = sum(int(digit) * weight for digit, weight in zip(body, _ID_WEIGHTS, strict=True)) % 11
    return body + _ID_CHECK[checksum]
