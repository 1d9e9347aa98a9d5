"""Files answered as downloads, named in the ``Content-Disposition`` header."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import Response

from coordinator.text import printable

# A quote or backslash would end or escape the quoted ASCII name early.
_QUOTED_SPECIALS = re.compile(r'["\\]')


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    """RFC 6266: the Chinese name (``filename*``) for browsers that read it, an ASCII one for the
    rest. A name made of stored text (a person's name) loses control characters first: a header
    cannot carry them, and the server would drop the connection instead of answering."""
    name = printable(filename)
    ascii_name = _QUOTED_SPECIALS.sub("_", name.encode("ascii", "ignore").decode()) or "download"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
