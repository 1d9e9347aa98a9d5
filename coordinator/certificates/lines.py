"""Line breaking of Chinese paragraphs for the PDF certificate.

fpdf2 breaks at spaces when a paragraph has any, so a justified line could end right after
"兹证明" and leave the name on the next line with wide gaps. Here a paragraph is a list of pieces:
plain text may break between any two Chinese characters (never before closing punctuation nor
after opening punctuation, as 禁则 asks), while a kept piece (a name, a number) never breaks and
stays on the line of the text around it. Lines are drawn left-aligned, one text run each, so text
extraction reads them in order."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Never at the start of a line / never at the end of one.
_CLOSING = set("，。、；：！？）》」』”’%．,.;:!?)]")
_OPENING = set("（《「『“‘([")
# Latin letters, digits and the signs inside numbers stay together ("4.67", "2026-11-05").
_WORD = re.compile(r"[A-Za-z0-9.\-:/*]+|\s+|.", re.DOTALL)


@dataclass(frozen=True)
class Keep:
    """Text that is never split across lines."""

    text: str


Piece = str | Keep


def _tokens(pieces: Sequence[Piece]) -> list[str]:
    tokens: list[str] = []
    for piece in pieces:
        if isinstance(piece, Keep):
            tokens.append(piece.text)
        else:
            tokens.extend(m.group(0) for m in _WORD.finditer(piece))
    return _glue(tokens)


def _glue(tokens: list[str]) -> list[str]:
    """Closing punctuation joins the token before it, opening punctuation the one after it."""
    glued: list[str] = []
    pending = ""
    for token in tokens:
        if pending:
            token, pending = pending + token, ""
        if token in _OPENING:
            pending = token
        elif token and token[0] in _CLOSING and glued:
            glued[-1] += token
        else:
            glued.append(token)
    if pending:
        glued.append(pending)
    return glued


def break_lines(pieces: Sequence[Piece], width: float, measure: Callable[[str], float]) -> list[str]:
    """The lines of a paragraph no wider than ``width`` (as ``measure`` counts), greedily filled.
    A token wider than a whole line gets a line of its own."""
    lines: list[str] = []
    current = ""
    for token in _tokens(pieces):
        if current and measure(current + token) > width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current += token
    if current.strip():
        lines.append(current.rstrip())
    return lines
