"""The data of a WeChat template message: our values put under the template's keys, each fitted to
the rules of its key type, since WeChat refuses a message with one value out of bounds (47003)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote

from coordinator.settings import WechatTemplate, wechat_key_type

THING_MAX = 20
PHRASE_MAX = 5
CHARACTER_STRING_MAX = 32
PHONE_NUMBER_MAX = 17
NUMBER_MAX = 32
ELLIPSIS = "…"
# WeChat refuses an empty value: a missing place or phone shows this instead.
EMPTY = "无"

_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_NOT_CHARACTER_STRING = re.compile(r"[^\x21-\x7e]")
_NOT_PHONE = re.compile(r"[^0-9+\-]")
_NOT_NUMBER = re.compile(r"[^0-9.]")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def wechat_time(iso: str, *, with_clock: bool = True) -> str:
    """``2026年10月29日 09:00``, the form WeChat's time keys take, from the station-time ISO start."""
    try:
        local = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    day = f"{local.year}年{local.month}月{local.day}日"
    return f"{day} {local:%H:%M}" if with_clock else day


def fit(key: str, value: str) -> str:
    """``value`` as a key of this type accepts it."""
    kind = wechat_key_type(key)
    value = " ".join(value.split())  # no line breaks: WeChat shows one line per key
    if kind == "time":
        value = wechat_time(value)
    elif kind == "date":
        value = wechat_time(value, with_clock=False)
    elif kind == "thing":
        value = shorten(value, THING_MAX)
    elif kind == "phrase":
        value = "".join(_CHINESE.findall(value))[:PHRASE_MAX]
    elif kind == "character_string":
        value = _NOT_CHARACTER_STRING.sub("", value)[:CHARACTER_STRING_MAX]
    elif kind == "phone_number":
        value = _NOT_PHONE.sub("", value)[:PHONE_NUMBER_MAX]
    elif kind == "number":
        value = _NOT_NUMBER.sub("", value)[:NUMBER_MAX]
    return value or EMPTY


def template_data(template: WechatTemplate, values: Mapping[str, str]) -> dict[str, dict[str, str]]:
    return {key: {"value": fit(key, values.get(source, ""))} for key, source in template.data.items()}


def page_path(template: WechatTemplate, values: Mapping[str, str]) -> str:
    """The configured page with the message's token, if it has one, as its query."""
    token = values.get("token", "")
    if not template.page or not token:
        return template.page
    separator = "&" if "?" in template.page else "?"
    return f"{template.page}{separator}token={quote(token, safe='')}"
