"""The confirm-or-release link a day-before reminder carries, and which reminders carry it.

The token is short on purpose: it travels in an SMS, where every character counts (a JWT would
double the message). It is ``{signup id}-{16 characters of HMAC-SHA256(secret, purpose:id)}``:
unguessable, bound to one sign-up, and needing no expiry of its own: it stops working when the
event starts (checked by the service), and a new secret key revokes every link at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from coordinator.events.durations import parse_offset
from coordinator.notify.rendering import render
from coordinator.settings import Settings

PURPOSE = "confirmation"
# The template of a reminder that asks to confirm or release (an SMS template code of its own:
# its text names the link and the reply keywords "1" and "0").
CONFIRM_TEMPLATE = "reminder_confirm"
_MAC_LENGTH = 16


def _mac(settings: Settings, signup_id: int) -> str:
    key = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(key, f"{PURPOSE}:{signup_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_MAC_LENGTH]


def confirmation_token(settings: Settings, signup_id: int) -> str:
    return f"{signup_id}-{_mac(settings, signup_id)}"


def signup_of_token(settings: Settings, token: str) -> int | None:
    """The sign-up id a token names, or None for a forged or malformed token."""
    ident, _, mac = token.partition("-")
    if not ident.isdigit() or len(ident) > 12 or len(mac) != _MAC_LENGTH:
        return None
    signup_id = int(ident)
    return signup_id if hmac.compare_digest(mac, _mac(settings, signup_id)) else None


def confirmation_url(settings: Settings, signup_id: int) -> str:
    token = confirmation_token(settings, signup_id)
    return f"{settings.public_base_url.rstrip('/')}/api/v1/confirmations/{token}"


def confirm_deadline(settings: Settings, starts_at: datetime) -> datetime:
    """Who has not confirmed by this moment is at risk."""
    return starts_at - timedelta(hours=settings.confirm_deadline_hours)


def asks_confirmation(settings: Settings, starts_at: datetime, offset: str) -> bool:
    """A reminder asks to confirm or release when it is due before the confirmation deadline
    (with the defaults: the one-day reminder does, the two-hour one does not)."""
    return starts_at - parse_offset(offset) < confirm_deadline(settings, starts_at)


def reminder_template(settings: Settings, starts_at: datetime, offset: str) -> str:
    return CONFIRM_TEMPLATE if asks_confirmation(settings, starts_at, offset) else "reminder"


def reminder_extra(settings: Settings, starts_at: datetime, offset: str, signup_id: int) -> dict[str, str]:
    """Extra template context of a reminder: the link, when it asks for an answer."""
    if not asks_confirmation(settings, starts_at, offset):
        return {}
    return {"link": confirmation_url(settings, signup_id), "token": confirmation_token(settings, signup_id)}


def sendable_payload(settings: Settings, channel: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The stored message as this deployment can send it now: a provider needs an approved
    template of its own for the confirm-or-release reminder; where none is configured (or the
    settings changed since it was planned) the plain reminder goes instead, without the link and
    the reply keywords, rather than a message the provider would refuse."""
    if sendable_template(settings, channel, str(payload.get("template_key"))) != "reminder":
        return payload  # not the confirm-or-release reminder, or one the channel can send
    context = payload.get("context")
    if not isinstance(context, dict):
        return payload
    return render("reminder", channel, str(payload.get("recipient", "")), context)


def sendable_template(settings: Settings, channel: str, template: str) -> str:
    """The template a message planned with ``template`` goes with on ``channel``."""
    if template == CONFIRM_TEMPLATE and not _has_template(settings, CONFIRM_TEMPLATE, channel):
        return "reminder"
    return template


def _has_template(settings: Settings, template: str, channel: str) -> bool:
    if channel == "sms":
        if settings.sms_provider == "aliyun":
            return template in settings.aliyun_sms_template_codes
        if settings.sms_provider == "tencent":
            return template in settings.tencent_sms_template_ids
        return True  # the console prints any text
    if channel == "wechat":
        return template in settings.wechat_templates
    return channel == "email"  # free text
