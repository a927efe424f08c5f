"""Dates as spreadsheets and exports write them (I6), read without guessing.

Real date cells, Excel serial numbers, ISO text (with or without a time), `2025/01/15`,
`20250115`, `15-Jan-2025`, `Jan 15, 2025`, and day and month as numbers in either order
(`15.01.2025`, `1/15/2025`). Which of day and month comes first is decided per column, from its
values: one above 12 decides. A column that stays ambiguous follows `[formats] dates` in
tiersheet.toml; without it its ambiguous rows are rejected, and a column that writes both orders
is a problem. A time of day is dropped. Pure functions: values in, dates or CellError out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Sequence

from .values import CellError

ORDERS = ("DMY", "MDY")
SETTING = '[formats] dates = "DMY" (or "MDY") in the inbox\'s tiersheet.toml'
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's 1900 leap-year bug included)

MONTHS = {name: number for number, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december")), start=1) for name in names}

_TIME = r"(?:(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
_YMD = re.compile(rf"^(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMERIC = re.compile(rf"^(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}|\d{{2}})\.?{_TIME}$")
_DAY_NAME = re.compile(rf"^(\d{{1,2}})\.?[-/ ]*([A-Za-z]{{3,9}})\.?[-/ ,]*(\d{{4}}|\d{{2}}){_TIME}$")
_NAME_DAY = re.compile(rf"^([A-Za-z]{{3,9}})\.?[-/ ]*(\d{{1,2}})(?:st|nd|rd|th)?,?[-/ ]*(\d{{4}}){_TIME}$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")


@dataclass(frozen=True)
class DayMonth:
    """A date written as two numbers and a year, whose order its column decides."""
    first: int
    second: int
    year: int

    @property
    def vote(self) -> str | None:
        """The order this value proves: a number above 12 cannot be a month."""
        if self.first > 12 >= self.second:
            return "DMY"
        if self.second > 12 >= self.first:
            return "MDY"
        return None

    @property
    def ambiguous(self) -> bool:
        return self.vote is None and self.first != self.second and self.first <= 12 and self.second <= 12

    def in_order(self, order: str) -> date:
        day, month = (self.first, self.second) if order == "DMY" else (self.second, self.first)
        return make_date(self.year, month, day)


def make_date(year: int, month: int, day: int) -> date:
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError("is not a real date") from None


def from_serial(number: float) -> date:
    """An Excel serial number (days since 1899-12-30); a fraction is a time of day, dropped."""
    if number < 1:
        raise CellError("is not a date (a number, but not a spreadsheet date serial)")
    try:
        return EXCEL_EPOCH + timedelta(days=int(number))
    except OverflowError:
        raise CellError("is not a date (a number far beyond any spreadsheet date)") from None


def read_date_value(value: object) -> date | DayMonth:
    """A date, or a DayMonth for its column to decide; CellError when it is no date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError("is true/false, not a date")
    if isinstance(value, (int, float)):
        if value != value:
            raise CellError("is not a date")
        return from_serial(value)
    if isinstance(value, (time, timedelta)):
        raise CellError("is a time of day, not a date")
    text = " ".join(str(value).split())
    if match := _YMD.match(text):
        return make_date(int(match[1]), int(match[3]), int(match[4]))
    if match := _NUMERIC.match(text):
        return DayMonth(int(match[1]), int(match[3]), int(match[4]))
    if match := _COMPACT.match(text):
        return make_date(int(match[1]), int(match[2]), int(match[3]))
    if match := _DAY_NAME.match(text):
        return make_date(int(match[3]), month_number(match[2]), int(match[1]))
    if match := _NAME_DAY.match(text):
        return make_date(int(match[3]), month_number(match[1]), int(match[2]))
    if _SERIAL.match(text):
        return from_serial(float(text))
    raise CellError("is not a date (write it as a date cell or YYYY-MM-DD)")


def month_number(name: str) -> int:
    number = MONTHS.get(name.casefold())
    if number is None:
        raise CellError(f"is not a date ({name!r} is not a month name)")
    return number


def parse_date(value: object, order: str | None = None) -> date:
    """One value on its own: a DayMonth needs `order` unless it proves its own."""
    found = read_date_value(value)
    if not isinstance(found, DayMonth):
        return found
    order = order or found.vote or ("DMY" if found.first == found.second else None)
    if order is None:
        raise CellError(f"could be day/month or month/day: add {SETTING}")
    return found.in_order(order)


_MONTH_TEXT = [re.compile(r"^(\d{4})[-/.](\d{1,2})$"), re.compile(r"^(\d{1,2})[-/.](\d{4})$")]


def parse_month(value: object) -> date:
    """A month (rates): a date in it, 'YYYY-MM', 'MM/YYYY' or 'Jan 2025'; its first day."""
    if isinstance(value, str):
        text = " ".join(value.split())
        if match := _MONTH_TEXT[0].match(text):
            return make_date(int(match[1]), int(match[2]), 1)
        if match := _MONTH_TEXT[1].match(text):
            return make_date(int(match[2]), int(match[1]), 1)
        if match := re.match(r"^([A-Za-z]{3,9})\.?[-/ ,]*(\d{4})$", text):
            return make_date(int(match[2]), month_number(match[1]), 1)
    return parse_date(value).replace(day=1)


def read_date_column(values: Sequence[object], rows: Sequence[int],
                     setting: str | None) -> tuple[list[date | None], dict[int, str]]:
    """Dates for one column's values (spreadsheet rows `rows`), deciding day/month order from
    the column itself, then `setting`; returns the dates and, by index, what is wrong."""
    found: list[date | DayMonth | None] = []
    errors: dict[int, str] = {}
    # A column's dates recur: each value is read once, keyed with its type (1, 1.0 and True differ).
    read: dict[tuple, date | DayMonth | str] = {}  # -> its date, or what is wrong with it
    for i, value in enumerate(values):
        key = (type(value), value)
        if key not in read:
            try:
                read[key] = read_date_value(value)
            except CellError as exc:
                read[key] = str(exc)
        if isinstance(read[key], str):
            found.append(None)
            errors[i] = read[key]
        else:
            found.append(read[key])
    witnesses = {order: next(((i, v) for i, v in enumerate(found)
                              if isinstance(v, DayMonth) and v.vote == order), None) for order in ORDERS}
    proven = [order for order, witness in witnesses.items() if witness]
    order = proven[0] if len(proven) == 1 else setting
    dates: list[date | None] = []
    for i, value in enumerate(found):
        if not isinstance(value, DayMonth):
            dates.append(value)
            continue
        dates.append(None)
        if len(proven) == 2 and not setting:
            (d, _), (m, _) = witnesses["DMY"], witnesses["MDY"]
            errors[i] = (f"this column writes dates day first (row {rows[d]}: {values[d]}) and month "
                         f"first (row {rows[m]}: {values[m]}): correct the column, or add {SETTING}")
        elif order is None and value.ambiguous:
            errors[i] = f"could be day/month or month/day and no date in this column decides: add {SETTING}"
        else:
            try:
                dates[-1] = value.in_order(order or ("DMY" if value.first == value.second else value.vote))
            except CellError as exc:
                errors[i] = (f"{exc} in {order[0]}/{order[1]}/{order[2]} order"
                             + (" ([formats] dates in tiersheet.toml)" if order == setting and len(proven) != 1 else "")
                             if order else str(exc))
    return dates, errors
