"""The village group (组/村) a ledger address belongs to: residents of one area are visited in
one round. Rural addresses read from the large unit to the small one ("营盘村三组12号"), so the
area is the address up to its last 组, else its last 村/寨/社区."""

from __future__ import annotations

import re

_GROUP = re.compile(r"^(.*?组)")
_VILLAGE = re.compile(r"^(.*(?:村|寨|社区))")
_HOUSE_NUMBER = re.compile(r"(\d+)\s*号")
UNKNOWN_AREA = "未填地址"


def area_of(address: str | None) -> str:
    text = (address or "").strip()
    if not text:
        return UNKNOWN_AREA
    for pattern in (_GROUP, _VILLAGE):
        if match := pattern.match(text):
            return match.group(1)
    return text


def walking_key(address: str | None) -> tuple[int, str]:
    """Order of the stops of one area: by house number where the address has one."""
    text = address or ""
    match = _HOUSE_NUMBER.search(text)
    return (int(match.group(1)) if match else 1 << 30, text)
