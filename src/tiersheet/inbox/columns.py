"""Typing one column of a sheet (I6, I7): fast paths for what spreadsheets usually hold (a
million rows: the loop per cell is all there is), the parser of the field's type otherwise, range
checks, and a Problem for every bad cell, saying what to do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ..problems import ERROR, WARNING, Problem
from .dates import read_date_column
from .files import RawSheet
from .kinds import Field
from .values import CellError, SheetError, is_blank, show, spreadsheet_error

if TYPE_CHECKING:
    from .sheets import SheetReader

PLAUSIBLE = (date(1990, 1, 1), date(2099, 12, 31))
MAX_CELL_TEXT = 32_767  # characters a spreadsheet cell holds (Excel's limit)
IRREGULAR = object()  # a cell no fast path typed: it is looked at on its own

# What to do about a bad cell, by the field's type (I7: every problem says what to do).
HINTS = {"amount": "write an amount such as 1234.50 or 1.234,50",
         "money": "write an amount of 0 or more such as 1234.50",
         "rate": "write a positive number such as 1.0875",
         "date": "write a date such as 2025-01-15", "month": "write a month such as 2025-01",
         "yes": "write yes or no", "count": "write a whole number such as 2",
         "points": "write a whole number such as 250",
         "signed_points": "write a whole number such as 250 or -100", "level": "write one of these names",
         "activity": "write one of these types", "sale_type": "write licence or renewal",
         "text": "correct the cell", "id": "correct the cell", "code": "correct the cell",
         "list": "correct the cell"}


def advise(message: str, hint: str) -> str:
    """A problem's message with what to do, unless it says so already."""
    if re.search(r"\b(add|write|correct|fill|give|check|remove|save)\b", message):
        return message
    return f"{message}: {hint}"


def error_problem(sheet: RawSheet, number: int, header: str, value: str, spec: Field) -> Problem:
    return Problem(sheet.file, sheet.name, number, header, value,
                   f"holds the spreadsheet error {value}: correct the formula or value in the source "
                   "and export again", "counted as not met" if spec.lenient else "row rejected",
                   WARNING if spec.lenient else ERROR)


@dataclass
class DataRows:
    """A sheet's data rows and their spreadsheet row numbers, as two lists: a million rows
    paired up would be a million more objects for the garbage collector to walk. Every row
    reaches the header's last column (the reader pads short rows with None, an empty cell)."""
    numbers: list[int]
    rows: list[list]

    def __len__(self) -> int:
        return len(self.numbers)


class Column:
    """One column's typed values; bad cells become errors (or warnings) of their rows."""

    def __init__(self, reader: SheetReader, sheet: RawSheet, spec: Field, index: int, header: str,
                 data: DataRows, errors: dict, warnings: dict):
        self.reader, self.sheet, self.spec = reader, sheet, spec
        self.index, self.header, self.data = index, header, data
        self.errors, self.warnings = errors, warnings
        self.blanks: list[int] = []
        self.currencies: dict[int, str] = {}
        self.limit = reader.rules.max_amount_usd

    def problem(self, i: int, value: object, message: str) -> None:
        number = self.data.numbers[i]
        message = advise(message, HINTS.get(self.spec.type, "correct the cell"))
        if self.spec.lenient:
            self.warnings.setdefault(i, []).append(Problem(
                self.sheet.file, self.sheet.name, number, self.header, show(value), message,
                "counted as not met", WARNING))
        else:
            self.errors.setdefault(i, []).append(Problem(
                self.sheet.file, self.sheet.name, number, self.header, show(value), message,
                "row rejected"))

    def values(self) -> list:
        """The column's typed values. Most cells are what spreadsheets usually hold (text, date
        cells, numbers): one pass over the rows types those, and only the rest is looked at cell
        by cell, where the same text (a sale type, a yes) is typed once and remembered."""
        rows, index = self.data.rows, self.index
        out = self.regular()
        pending: list[tuple[int, object]] = []   # date cells that need their column's order
        known: dict[str, object] = {}           # text that typed cleanly -> its typed value
        for i in [i for i, typed in enumerate(out) if typed is IRREGULAR]:
            value = rows[i][index]
            typed = known.get(value, IRREGULAR) if type(value) is str else IRREGULAR
            if typed is IRREGULAR:
                typed, clean = self.cell(i, value, pending)
                if clean and type(value) is str:
                    known[value] = typed
            out[i] = typed
        if pending:
            self.dates(pending, out)
        return out

    def regular(self) -> list:
        """Typed values of the cells a fast path types (trimmed text, plausible date cells,
        amounts within the limit), IRREGULAR for every other cell (I6)."""
        rows, index, kind = self.data.rows, self.index, self.spec.type
        if kind in ("text", "id"):  # not blank, not maybe an error value (#N/A, Err:502), fits a cell
            return [text if type(cell := row[index]) is str and (text := cell.strip()) and text[0] not in "#E"
                    and len(text) <= MAX_CELL_TEXT else IRREGULAR for row in rows]
        if kind == "date":
            first, last = PLAUSIBLE
            return [cell if type(cell := row[index]) is date and first <= cell <= last else IRREGULAR
                    for row in rows]
        if kind == "amount":
            limit = self.limit
            return [cell if type(cell := row[index]) is float and cell == cell and abs(cell) <= limit
                    else IRREGULAR for row in rows]
        return [IRREGULAR] * len(rows)

    def cell(self, i: int, value: object, pending: list[tuple[int, object]]) -> tuple[object, bool]:
        """(typed value, whether it typed cleanly) of row i's cell, recording its blank, its
        problem or the currency its text names; a date cell that is not a date cell waits in
        `pending` for its column's order (None for now)."""
        spec = self.spec
        blank = self.reader.blank(spec)
        kind_of = type(value)
        if kind_of is str and not value.strip():
            value = None
        if value is None or is_blank(value):
            self.blanks.append(i)
            if spec.required:
                self.errors.setdefault(i, []).append(Problem(
                    self.sheet.file, self.sheet.name, self.data.numbers[i], self.header, "",
                    "is empty but required: fill it in", "row rejected"))
            return blank, False
        error = spreadsheet_error(value) if kind_of is SheetError or (
            kind_of is str and value[:1] in "#E ") else None
        if error:
            problem = error_problem(self.sheet, self.data.numbers[i], self.header, error, spec)
            (self.warnings if spec.lenient else self.errors).setdefault(i, []).append(problem)
            return (blank if spec.lenient else None), False
        if spec.type == "date":
            pending.append((i, value))
            return None, False
        clean = True
        try:
            result = self.reader.parsers[spec.type](value)
            if spec.type in ("amount", "money", "rate"):
                result, currency = result
                if currency:
                    self.currencies[i] = currency
                    clean = False
            trouble = self.check(result)
            if trouble:
                raise CellError(trouble)
            if spec.type in ("text", "id") and len(result) > MAX_CELL_TEXT:
                result, clean = self.cut(i, value, result), False
        except CellError as exc:
            self.problem(i, value, str(exc))
            return (blank if spec.lenient else None), False
        return result, clean

    def cut(self, i: int, value: object, text: str) -> str:
        """Text longer than a cell holds is cut, with a warning, so every output agrees (I7)."""
        self.warnings.setdefault(i, []).append(Problem(
            self.sheet.file, self.sheet.name, self.data.numbers[i], self.header, show(value)[:80] + "...",
            f"is {len(text):,} characters long, more than a spreadsheet cell holds "
            f"({MAX_CELL_TEXT:,}): shorten it in the source", f"first {MAX_CELL_TEXT:,} characters used",
            WARNING))
        return text[:MAX_CELL_TEXT]

    def dates(self, pending: list[tuple[int, object]], out: list) -> None:
        """Date cells that are not date cells: the column decides day/month order (I6)."""
        values = [value for _, value in pending]
        rows = [self.data.numbers[i] for i, _ in pending]
        dates, errors = read_date_column(values, rows, self.reader.settings.dates)
        for k, ((i, value), day) in enumerate(zip(pending, dates)):
            if k in errors:
                self.problem(i, value, errors[k])
                continue
            trouble = self.check(day)
            if trouble:
                self.problem(i, value, trouble)
                continue
            out[i] = day

    def check(self, value: object) -> str | None:
        """Range checks on typed values: negative or absurd values (I7)."""
        kind = self.spec.type
        if value is None:
            return None
        if kind in ("amount", "money") and abs(value) > self.limit:
            return (f"is beyond the limit of {self.limit:,.0f}: check the amount "
                    "(or raise limits.max_amount_usd in the rules file)")
        if kind == "money" and value < 0:
            return "is negative"
        if kind == "rate" and value <= 0:
            return "is not a positive exchange rate"
        if kind in ("points", "signed_points") and abs(value) > 10_000_000:
            return "is absurdly large"
        if isinstance(value, date) and not PLAUSIBLE[0] <= value <= PLAUSIBLE[1]:
            return "is not a plausible date (before 1990 or after 2099)"
        return None
