"""Cell values that are not money or dates: text, IDs, yes/no, counts, lists, level names,
activity types, sale types, and spreadsheet error values (I2-I6).

Pure functions: a value in, a typed value out, or CellError saying what is wrong.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Callable

from ..config import Rules
from .kinds import normalise_header


class CellError(ValueError):
    """What is wrong with one cell; the reader turns it into a Problem (I7)."""


class SheetError(str):
    """A cell holding a spreadsheet error value (#N/A, #REF!...), kept apart from text (I6)."""


# Excel's error values; a cell holding one is never data, whatever its column (I6).
ERROR_VALUES = {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!",
                "#UNKNOWN!", "#N/A N/A", "Err:502", "Err:504", "Err:508", "Err:511", "Err:522"}


def spreadsheet_error(value: object) -> str | None:
    """The error value a cell holds (a real error cell, or its text in a CSV or HTML export)."""
    if isinstance(value, SheetError):
        return str(value)
    if isinstance(value, str) and value[:1] in ("#", "E") and value.strip() in ERROR_VALUES:
        return value.strip()
    return None


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and value != value)


def show(value: object) -> str:
    """A cell as text for problem reports."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != datetime.min.time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))  # not 1e308's 309 digits
    return str(value)


def parse_text(value: object) -> str:
    """Text as written, trimmed of spaces, non-breaking spaces included (str.strip() knows them);
    a whole number read as a number (1001.0) is the text '1001' (I6)."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))  # not 1e308's 309 digits
    if isinstance(value, (date, datetime)):
        return show(value)
    return str(value).strip()


def parse_code(value: object) -> str:
    """Currency and territory codes, in capitals."""
    return parse_text(value).upper()


_YES = {"yes", "y", "true", "1", "x", "+", "1.0"}
_NO = {"no", "n", "false", "0", "", "-", "0.0"}


def parse_yes(value: object) -> bool:
    """Yes/no cells: yes/no, y/n, true/false, 1/0, x, +, and blank (= no) (I2)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if value in (0, 1):
            return bool(value)
        raise CellError("is not yes or no")
    text = str(value).strip().casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError("is not yes or no")


def parse_list(value: object) -> tuple[str, ...]:
    """Comma- or semicolon-separated items: territories, NFR editions."""
    return tuple(part.strip() for part in re.split(r"[,;]", parse_text(value)) if part.strip())


def level_parser(rules: Rules) -> Callable[[object], str]:
    """Level names: the full name or its first word, in any case (Status names)."""
    names: dict[str, str] = {}
    for level in rules.levels:
        names[" ".join(level.name.split()).casefold()] = level.name
        names[level.name.split()[0].casefold()] = level.name

    def parse(value: object) -> str:
        text = " ".join(parse_text(value).split()).casefold()
        if text in names:
            return names[text]
        raise CellError("is not a level name (" + ", ".join(lv.name for lv in rules.levels) + ")")
    return parse


def activity_parser(rules: Rules) -> Callable[[object], str]:
    """An activity type by its key, label or alias; else a unique part of one label (R5, I4)."""
    def singular(text: str) -> str:
        return text[:-1] if text.endswith("s") else text

    exact: dict[str, str] = {}
    for activity in rules.activities:
        for name in (activity.key, activity.label, *activity.aliases):
            exact[singular(normalise_header(name))] = activity.key

    def parse(value: object) -> str:
        text = singular(normalise_header(parse_text(value)))
        if not text:
            raise CellError("is empty")
        if text in exact:
            return exact[text]
        hits = {a.key for a in rules.activities
                if len(text) >= 4 and text in singular(normalise_header(a.label))}
        if len(hits) == 1:
            return hits.pop()
        raise CellError("is not a known activity type (" + ", ".join(a.key for a in rules.activities) + ")")
    return parse


def sale_type_parser(value: object) -> str:
    text = parse_text(value).casefold()
    if text in ("", "licence", "license", "licences", "licenses", "new", "new licence"):
        return "licence"
    if text in ("renewal", "renewals", "renew"):
        return "renewal"
    raise CellError("is not a sale type (licence or renewal)")
