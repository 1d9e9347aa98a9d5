"""A fake Aliyun SMS gateway for multi-process tests: checks every signature like the real one,
counts each message (alone or in a batch), and can hold answers at a gate so a test knows exactly
which messages are in flight when it kills a worker."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from coordinator.notify.channels.sms_aliyun import aliyun_phone
from coordinator.notify.models import Notification
from tests.notify.fake_server import json_answer
from tests.notify.fake_sms import FakeAliyun, aliyun_messages, aliyun_params

ACCESS_KEY_ID = "LTAI-test-id"
ACCESS_KEY_SECRET = "aliyun-test-secret"


Message = tuple[str, str]  # (phone as Aliyun gets it, template parameters as JSON)


def message_identity(phone: str, params: dict[str, str]) -> Message:
    return phone, json.dumps(params, ensure_ascii=False, sort_keys=True)


def identity(row: Notification) -> Message:
    """What the gateway saw of a notification's message."""
    params = {str(k): str(v) for k, v in row.payload["params"].items()}
    return message_identity(aliyun_phone(row.payload["recipient"]), params)


@dataclass(frozen=True)
class Accepted:
    out_id: str
    biz_id: str


class CountingGateway(FakeAliyun):
    """Counts each message by what its recipient would see (phone and parameters: the tests give
    every message distinct parameters), so a message sent twice, alone or in two batches, shows."""

    def __init__(self) -> None:
        super().__init__(access_key_id=ACCESS_KEY_ID, secret=ACCESS_KEY_SECRET)
        self.counts: Counter[Message] = Counter()
        self.accepted: dict[Message, Accepted] = {}
        self.requests = 0
        self.rejected = 0
        self.in_flight = 0
        self._open = asyncio.Event()
        self._open.set()
        self._biz = itertools.count(1)

    def close_gate(self) -> None:
        """Hold every answer from now on (requests are still counted as they arrive)."""
        self._open.clear()

    def open_gate(self) -> None:
        self._open.set()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def duplicates(self) -> dict[Message, int]:
        return {message: n for message, n in self.counts.items() if n > 1}

    async def send_sms(self, request: Request) -> Response:
        params = await aliyun_params(request)
        problem = self._check(params, request.method)
        if problem is not None:
            self.rejected += 1
            return json_answer({"RequestId": "fake", "Code": problem[0], "Message": problem[1]}, 400)
        self.requests += 1
        biz_id = f"biz-{next(self._biz)}"
        for phone, template_params in aliyun_messages(params):
            message = message_identity(phone, template_params)
            self.counts[message] += 1
            self.accepted[message] = Accepted(out_id=params["OutId"], biz_id=biz_id)
        self.in_flight += 1
        try:
            await self._open.wait()
        finally:
            self.in_flight -= 1
        return json_answer({"RequestId": f"req-{biz_id}", "Code": "OK", "Message": "OK", "BizId": biz_id})
