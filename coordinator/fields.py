"""Field types that every input shares (bodies, paths and queries alike): record ids, text, dates.

Each refuses with a 422 naming the field what the database or a file writer could not take, so
bad input never reaches them. ``coordinator.errors`` gives the Chinese sentence of each refusal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

from coordinator.errors import Invalid
from coordinator.text import normalize_line_breaks, odd_character

# Ids are PostgreSQL ``integer`` columns; SQLite would take up to 2**63 - 1.
MAX_ID = 2**31 - 1
FIRST_YEAR = 2000
LAST_YEAR = 2100

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _refuse_odd(value: str, *, multiline: bool) -> str:
    found = odd_character(value, multiline=multiline)
    if found is not None:
        raise PydanticCustomError(
            "control_character",
            "may not contain control characters (found U+{code})",
            {"code": f"{ord(found):04X}"},
        )
    return value


def _single_line(value: str) -> str:
    return _refuse_odd(value, multiline=False)


def _multi_line(value: str) -> str:
    return _refuse_odd(normalize_line_breaks(value), multiline=True)


# One line of text (a name, a title, a filter): no control characters, no tab or line break.
Line = Annotated[str, AfterValidator(_single_line)]
# Text that may run over lines (a description, notes): tabs and line breaks kept, as ``\n``.
Lines = Annotated[str, AfterValidator(_multi_line)]


def year_in_range(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def within_years(value: date) -> date:
    # ``datetime`` is a ``date``: an instant is judged by its year where it was written.
    if not year_in_range(value.year):
        raise PydanticCustomError(
            "date_out_of_range",
            "must be in the years {first} to {last}",
            {"first": FIRST_YEAR, "last": LAST_YEAR},
        )
    return value


# An instant with its offset, in the years the service plans for.
Moment = Annotated[AwareDatetime, AfterValidator(within_years)]
# A calendar date in those years.
Day = Annotated[date, AfterValidator(within_years)]


def parse_month(text: str, *, field: str = "month") -> date:
    """``YYYY-MM`` in those years → the first day of the month."""
    try:
        first = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        first = None
    if first is None or len(text) != 7 or not year_in_range(first.year):
        raise Invalid(
            f"月份格式应为 YYYY-MM（{FIRST_YEAR}–{LAST_YEAR}年）：{text}",
            f"month must be YYYY-MM between {FIRST_YEAR} and {LAST_YEAR}: {text!r}",
            code="invalid_month",
            field=field,
        )
    return first


def parse_day(text: str, *, field: str) -> date | None:
    """``YYYY-MM-DD`` in those years → the date; empty (a form's blank field) → ``None``."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not year_in_range(day.year):
        raise Invalid(
            f"日期格式应为 YYYY-MM-DD（{FIRST_YEAR}–{LAST_YEAR}年）：{text}",
            f"Dates are written YYYY-MM-DD, between {FIRST_YEAR} and {LAST_YEAR}: {text!r}",
            code="invalid_date",
            field=field,
        )
    return day
