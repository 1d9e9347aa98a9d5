"""Which characters text may hold: what input refuses and what file writers take out.

Control characters (and lone surrogates or the non-characters U+FFFE/U+FFFF) cannot be stored by
PostgreSQL (NUL), written to XLSX or PDF, or put in a header or an iCalendar line; a person never
types them on purpose."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, lone surrogates and the two XML non-characters; tab and line ends apart.
_ODD = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
_LINE_BREAKS = "\t\n\r"
_ODD_IN_LINE = re.compile(f"[{_ODD}{_LINE_BREAKS}]")
_ODD_IN_LINES = re.compile(f"[{_ODD}]")
_CONTROL_RUN = re.compile(f"[{_ODD}]+")
_BREAK_RUN = re.compile(f"[{_LINE_BREAKS}]+")


def odd_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character ``value`` may not hold (tab and line breaks allowed if ``multiline``)."""
    found = (_ODD_IN_LINES if multiline else _ODD_IN_LINE).search(value)
    return found.group() if found else None


def normalize_line_breaks(value: str) -> str:
    """``\\r\\n`` (what browsers send from a text area) and a lone ``\\r`` become ``\\n``."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def printable(value: str, *, multiline: bool = False) -> str:
    """``value`` as a file may hold it: control characters dropped; unless ``multiline``, tabs and
    line breaks become one space. For text stored before input refused them."""
    text = _CONTROL_RUN.sub("", value)
    return normalize_line_breaks(text) if multiline else _BREAK_RUN.sub(" ", text)
