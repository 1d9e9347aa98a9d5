"""A fake Aliyun SMS gateway for multi-process tests: checks every signature like the real one,
counts each message by its ``OutId`` (our notification id), and can hold answers at a gate so a
test knows exactly which messages are in flight when it kills a worker."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

from starlette.requests import Request
from starlette.responses import Response

from tests.notify.fake_server import json_answer
from tests.notify.fake_sms import FakeAliyun

ACCESS_KEY_ID = "LTAI-test-id"
ACCESS_KEY_SECRET = "aliyun-test-secret"


class CountingGateway(FakeAliyun):
    def __init__(self) -> None:
        super().__init__(access_key_id=ACCESS_KEY_ID, secret=ACCESS_KEY_SECRET)
        self.counts: Counter[int] = Counter()
        self.biz_ids: dict[int, str] = {}
        self.phones: dict[int, str] = {}
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

    def duplicates(self) -> dict[int, int]:
        return {out_id: n for out_id, n in self.counts.items() if n > 1}

    async def send_sms(self, request: Request) -> Response:
        params = dict(request.query_params)
        problem = self._check(params)
        if problem is not None:
            self.rejected += 1
            return json_answer({"RequestId": "fake", "Code": problem[0], "Message": problem[1]}, 400)
        out_id = int(params["OutId"])
        self.counts[out_id] += 1
        biz_id = f"biz-{next(self._biz)}"
        self.biz_ids[out_id] = biz_id
        self.phones[out_id] = params["PhoneNumbers"]
        self.in_flight += 1
        try:
            await self._open.wait()
        finally:
            self.in_flight -= 1
        return json_answer({"RequestId": f"req-{biz_id}", "Code": "OK", "Message": "OK", "BizId": biz_id})
