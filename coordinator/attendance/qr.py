"""QR images of a link, as SVG (print, web pages) and PNG (chat apps), drawn with segno."""

from __future__ import annotations

import base64
import io
from enum import StrEnum
from urllib.parse import urlencode

import segno
from fastapi import Response

from coordinator.attendance.schemas import QrCodeOut
from coordinator.settings import Settings

# Medium error correction survives a creased printout; scale 8 prints sharp at A5.
_ERROR_LEVEL = "m"
_SCALE = 8
_BORDER = 4


class QrFormat(StrEnum):
    json = "json"
    svg = "svg"
    png = "png"


def scan_url(settings: Settings, page: str, token: str) -> str:
    """The link inside the QR: a phone camera opens the page, which posts the token back."""
    return f"{settings.public_base_url.rstrip('/')}/web/{page}?{urlencode({'token': token})}"


def svg(data: str) -> str:
    out = io.BytesIO()
    segno.make(data, error=_ERROR_LEVEL, micro=False).save(
        out, kind="svg", scale=_SCALE, border=_BORDER, xmldecl=False
    )
    return out.getvalue().decode()


def png(data: str) -> bytes:
    out = io.BytesIO()
    segno.make(data, error=_ERROR_LEVEL, micro=False).save(out, kind="png", scale=_SCALE, border=_BORDER)
    return out.getvalue()


def qr_answer(token: str, url: str, fmt: QrFormat, **extra: object) -> QrCodeOut | Response:
    """The JSON answer (token, link, both images) or, for ``svg``/``png``, the image itself."""
    if fmt is QrFormat.svg:
        return Response(svg(url), media_type="image/svg+xml")
    if fmt is QrFormat.png:
        return Response(png(url), media_type="image/png")
    png_data = base64.b64encode(png(url)).decode()
    return QrCodeOut.model_validate(
        {"token": token, "url": url, "svg": svg(url), "png_base64": png_data, **extra}
    )
