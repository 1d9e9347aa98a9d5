"""What every SMS provider callback (delivery receipts, replies) checks before it reads a push.

The push carries no signature a provider lets us verify, so the shared secret in its address
(``?token=``, ``COORDINATOR_NOTIFY_RECEIPT_TOKEN``) is what tells a provider from anyone else.
Without a token configured the callbacks do not exist (404): a forged reply "0" would release
a volunteer's place."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Query

from coordinator.deps import SettingsDep
from coordinator.errors import NotFound, Unauthorized

# Tencent pushes at most 100 reports at a time, Aliyun fewer; far more is not a provider.
MAX_PUSHED_ITEMS = 1000


async def check_callback_token(
    settings: SettingsDep,
    token: Annotated[
        str | None, Query(description="Shared secret (COORDINATOR_NOTIFY_RECEIPT_TOKEN)")
    ] = None,
) -> None:
    expected = settings.notify_receipt_token.get_secret_value()
    if not expected:
        raise NotFound(
            "短信回调未启用：未设置 COORDINATOR_NOTIFY_RECEIPT_TOKEN",
            "SMS callbacks are off: COORDINATOR_NOTIFY_RECEIPT_TOKEN is not set",
            code="callbacks_disabled",
        )
    # Bytes: compare_digest refuses str with non-ASCII characters, and a token is any text.
    if not hmac.compare_digest(expected.encode(), (token or "").encode()):
        raise Unauthorized("回调凭证无效", "Invalid callback token", code="invalid_receipt_token")


# ``dependencies=`` of each callback route: checked before the push is validated or stored.
CALLBACK_TOKEN_CHECK = [Depends(check_callback_token)]
