"""Browsing the pages from tests: log in through the form and read the CSRF token of a page."""

from __future__ import annotations

import re

import httpx

from tests.factories import PASSWORD

CSRF_INPUT = re.compile(r'name="_csrf" value="([^"]+)"')


async def log_in(client: httpx.AsyncClient, username: str) -> str:
    """Logs in through the form; answers the CSRF token to post with."""
    page = await client.get("/web/login")
    token = CSRF_INPUT.search(page.text)
    assert token is not None
    answer = await client.post(
        "/web/login", data={"_csrf": token.group(1), "username": username, "password": PASSWORD, "next": ""}
    )
    assert answer.status_code == 303
    return await csrf_of(client, "/web/calendar")


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    token = CSRF_INPUT.search(page.text)
    assert token is not None
    return token.group(1)
