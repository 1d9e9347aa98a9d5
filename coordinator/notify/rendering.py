"""The words of each message: Chinese templates (``templates/<reason>.j2``) rendered per channel.

Each template has the blocks ``subject`` and ``email`` (email), ``wechat`` (the message as text,
shown by the console: WeChat templates show only their keys) and ``sms`` (the text the provider's
template code stands for; shown by the console).
SMS providers only take a template code and named parameters, so the same facts also travel as
``params``: ``title``, ``time`` (station time), ``place``, ``phone`` (organizer), ``link``, ``code``.
WeChat templates pick their keys' values from ``wechat_params`` when the message is sent.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
WEEKDAYS = "一二三四五六日"

# The named parameters each SMS template takes (the provider template must use these names).
SMS_PARAMS: dict[str, tuple[str, ...]] = {
    "reminder": ("title", "time", "place", "phone"),
    "changed": ("title", "time", "place", "phone"),
    "cancelled": ("title", "time", "phone"),
    "promoted": ("title", "time", "place", "phone"),
    "invited": ("title", "time", "place", "link"),
    "otp": ("code",),
    # The day-before reminder that asks to confirm or release (``confirmations.links``).
    "reminder_confirm": ("title", "time", "place", "link"),
    # To the organizer when a volunteer releases a place.
    "released": ("volunteer", "title", "time", "filled"),
    # Training courses: ``title`` is the course, ``time`` and ``place`` its next session (blank
    # before one is scheduled), ``organizer`` the organizing region or station.
    "enrol_invite": ("title", "organizer", "time", "place", "link"),
    "enrol_admit": ("title", "organizer", "time", "place", "phone"),
    "enrol_reject": ("title", "organizer", "phone"),
}
# What each kind's WeChat ``status`` value says: a phrase of at most five Chinese characters.
WECHAT_STATUS: dict[str, str] = {
    "reminder": "即将开始",
    "reminder_confirm": "请确认参加",
    "changed": "时间变更",
    "cancelled": "活动取消",
    "promoted": "报名成功",
    "invited": "邀请参加",
    "released": "名额释放",
    "enrol_invite": "培训邀请",
    "enrol_admit": "报名通过",
    "enrol_reject": "报名未通过",
}


@cache
def _environment() -> Environment:
    # Plain text for SMS, WeChat and email bodies: nothing is HTML, so nothing is escaped.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def _template(reason: str) -> Template:
    return _environment().get_template(f"{reason}.j2")


def _block(template: Template, name: str, context: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(context))).strip()


def local_time(instant: datetime, zone: ZoneInfo) -> str:
    """``11月30日（周一）10:00`` in the station's zone."""
    local = instant.astimezone(zone)
    return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def wechat_params(reason: str, full: dict[str, str]) -> dict[str, str]:
    """Every value a WeChat template may show (``settings.WECHAT_SOURCES``); ``time`` is the
    start in ISO form (the key's type decides how it is written), the shown text when absent."""
    return {
        "title": full["title"],
        "time": full.get("start") or full["time"],
        "place": full["place"],
        "phone": full["phone"],
        "status": WECHAT_STATUS.get(reason, ""),
        "name": full["name"],
        "volunteer": full["volunteer"],
        "token": full.get("token", ""),
        "organizer": full["organizer"],
    }


def render(reason: str, channel: str, recipient: str, context: dict[str, str]) -> dict[str, Any]:
    """The message for one channel, as stored in ``Notification.payload`` and sent as is."""
    template = _template(reason)
    full = {"name": "", "title": "", "time": "", "place": "", "phone": "", "link": "", "code": "", **context}
    full.setdefault("old_time", "")
    full.setdefault("cancel_reason", "")
    full.setdefault("minutes", "5")
    full.setdefault("volunteer", "")
    full.setdefault("filled", "")
    full.setdefault("organizer", "")
    params = wechat_params(reason, full) if channel == "wechat" else {n: full[n] for n in SMS_PARAMS[reason]}
    body_block = {"sms": "sms", "wechat": "wechat", "email": "email"}.get(channel, "sms")
    text = _block(template, body_block, full)
    return {
        "recipient": recipient,
        "template_key": reason,
        "params": params,
        "subject": _block(template, "subject", full) if channel == "email" else "",
        "text": text,
        "url": full["link"] or None,
        "context": context,
    }
