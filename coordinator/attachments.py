"""File downloads: the user's (Chinese) file name, and a readable ASCII one for clients without RFC 5987."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import Response

from coordinator.text import printable

_NOT_TOKEN = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(content: bytes, media_type: str, *, filename: str, fallback: str) -> Response:
    """``filename`` as browsers show it (``服务时长证明_杨秀英.pdf``); ``fallback`` names the same file
    by kind and ids (``certificate-person-12.pdf``) for clients that read only ``filename=``: dropping
    the Chinese from ``filename`` would leave them ``_.pdf``. Stored text in the name loses control
    characters first: a header cannot carry them, and the server would drop the connection."""
    ascii_name = _NOT_TOKEN.sub("-", fallback).strip("-") or "download"
    disposition = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(printable(filename), safe='')}"
    )
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
