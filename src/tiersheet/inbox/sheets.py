"""One raw sheet to typed rows: find its header, recognise its kind, skip (and note) what is
not data, type every column (columns.py), and say what is wrong with every row that cannot be
used (I1-I7)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import islice
from typing import Callable

from ..config import Rules
from ..problems import NOTE, NOTED, Problem
from .columns import Column, DataRows, error_problem
from .dates import parse_month
from .files import RawSheet, column_letter
from .kinds import KINDS, KNOWN_HEADERS, Field, Kind, complete_kind, detect_kind, normalise_header
from .money import parse_count, parse_money, parse_signed_points
from .rows import Rows
from .settings import InboxSettings
from .values import (CellError, activity_parser, is_blank, level_parser, parse_code, parse_list,
                     parse_text, parse_yes, sale_type_parser, show)

HEADER_ROWS = 30  # I1: the header is among a sheet's first 30 rows
TEXT_TYPES = {"text", "id", "code"}
_TOTAL = re.compile(r"^\s*(grand\s+|sub-?\s*)?totals?\b|^\s*sum\b", re.IGNORECASE)

@dataclass
class SheetReport:
    """One row of the Reconciliation sheet (O3)."""
    file: str
    sheet: str
    kind: str
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # field -> header as written

    def header(self, name: str) -> str:
        return self.headers.get(name, name)


class SheetReader:
    """Turns one raw sheet into typed records, problems and a reconciliation row."""

    def __init__(self, rules: Rules, settings: InboxSettings | None = None):
        self.rules = rules
        self.settings = settings or InboxSettings()
        self.mapping = self.settings.headers
        self.rejected_partners: dict[str, str] = {}  # partner_id -> where its row was rejected
        money = lambda value: parse_money(value)  # noqa: E731  (value, currency named)
        self.parsers: dict[str, Callable[[object], object]] = {
            "text": parse_text, "id": parse_text, "code": parse_code, "list": parse_list,
            "month": parse_month, "amount": money, "money": money,
            "rate": lambda value: parse_money(value, max_decimals=None), "count": parse_count,
            "points": parse_count, "signed_points": parse_signed_points, "yes": parse_yes, "level": level_parser(rules),
            "activity": activity_parser(rules), "sale_type": sale_type_parser}

    # --- headers --------------------------------------------------------------------------

    def header_fields(self, header: list[object]) -> dict[str, tuple[int, str]]:
        """canonical field -> (column index, header text as written)."""
        found: dict[str, tuple[int, str]] = {}
        for index, cell in enumerate(header):
            if is_blank(cell):
                continue
            key = normalise_header(cell)
            name = self.mapping.get(key) or KNOWN_HEADERS.get(key)
            if name and name not in found:
                found[name] = (index, " ".join(str(cell).split()))
        return found

    def find_header(self, rows: list[list[object]]) -> tuple[int, str | None, dict] | None:
        """(row index, kind, columns) of the header: the first of the first 30 rows naming the
        required columns of one kind; else the first naming a kind at all, whose missing columns
        are then reported (I1, I7); None when the sheet holds no input."""
        fallback = None
        for index, row in enumerate(rows[:HEADER_ROWS]):
            if all(is_blank(c) for c in row):
                continue
            columns = self.header_fields(row)
            kind = complete_kind(set(columns))
            if kind:
                return index, kind, columns
            if fallback is None and detect_kind(set(columns)):
                fallback = (index, detect_kind(set(columns)), columns)
        return fallback

    # --- one sheet ------------------------------------------------------------------------

    def read(self, sheet: RawSheet) -> tuple[str | None, Rows, list[Problem], SheetReport]:
        rows = sheet.rows
        if all(all(is_blank(c) for c in row) for row in rows):
            return None, Rows({}), [], SheetReport(sheet.file, sheet.name, "ignored (empty)")
        found = self.find_header(rows)
        if found is None:
            return None, Rows({}), [], SheetReport(sheet.file, sheet.name, "ignored (not an input sheet)")
        start, name, columns = found
        kind = KINDS[name]
        header_row = sheet.first_row + start
        notes = self.title_notes(sheet, start)
        if sheet.hidden:
            notes.append(Problem(sheet.file, sheet.name, header_row, "", "",
                                 "is a hidden sheet, read like the others (nothing to do; delete the "
                                 "sheet if its rows should not count)", NOTED, NOTE))
        data, totals = self.data_rows(sheet, start, kind, columns)
        notes += totals
        report = SheetReport(sheet.file, sheet.name, kind.label, rows_read=len(data),
                             headers={f: header for f, (_, header) in columns.items()})
        missing = [f for f in kind.required if f not in columns]
        if kind.one_of and not set(kind.one_of) & set(columns):
            missing.append(kind.one_of[0])
        if missing:
            report.rejected = len(data)
            names = ", ".join(missing)
            problem = Problem(sheet.file, sheet.name, header_row, names, "",
                              f"missing required column {names} in a {kind.label} sheet: add the column "
                              f"(or map its header in tiersheet.toml [headers])",
                              f"whole sheet rejected ({len(data)} rows)")
            return name, Rows.empty(kind.read_names), notes + [problem], report
        accepted, problems = self.type_rows(sheet, kind, columns, data, report)
        return name, accepted, sorted(notes + problems, key=lambda p: p.row or 0), report

    def title_notes(self, sheet: RawSheet, start: int) -> list[Problem]:
        """Rows above the header (a report's title and filters) are noted, not problems (I1)."""
        notes = []
        for index, row in enumerate(sheet.rows[:start]):
            cells = [(c, v) for c, v in enumerate(row) if not is_blank(v)]
            if cells:
                column, value = cells[0]
                notes.append(Problem(sheet.file, sheet.name, sheet.first_row + index,
                                     column_letter(sheet.first_col + column), show(value),
                                     f"is a title row above the header on row {sheet.first_row + start}: "
                                     "skipped (nothing to do)", NOTED, NOTE))
        return notes

    def data_rows(self, sheet: RawSheet, start: int, kind: Kind,
                  columns: dict) -> tuple[DataRows, list[Problem]]:
        """The data rows and their numbers; blank rows skipped, totals rows noted (I1)."""
        key_index = columns[kind.key[0]][0] if kind.key[0] in columns else 0
        key_header = columns.get(kind.key[0], (0, kind.field(kind.key[0]).header))[1]
        numbers: list[int] = []
        rows: list[list] = []
        keyless: list[int] = []   # positions in rows of rows without a key: totals if at the end
        totals: list[Problem] = []
        first = sheet.first_row + start + 1
        width = max(index for index, _ in columns.values()) + 1
        for offset, row in enumerate(islice(sheet.rows, start + 1, None)):
            key = row[key_index] if key_index < len(row) else None
            if key is None or (type(key) is str and (not key.strip() or (key[:1] in "TtGgSs" and _TOTAL.match(key)))):
                if all(is_blank(c) for c in row):
                    continue
                label = next(((c, v) for c, v in enumerate(row) if not is_blank(v)), None)
                if label and isinstance(label[1], str) and _TOTAL.match(label[1]):
                    totals.append(self.total_note(sheet, first + offset, columns, label, key_header))
                    continue
                if all(is_blank(c) or _is_number(c) for c in row):
                    keyless.append(len(rows))
            numbers.append(first + offset)
            rows.append(row if len(row) >= width else row + [None] * (width - len(row)))
        trailing = []  # keyless rows of numbers after the last keyed row: totals under the data
        while keyless and keyless[-1] == len(rows) - 1 - len(trailing):
            trailing.insert(0, keyless.pop())
        for i in trailing:
            cell = next((c, v) for c, v in enumerate(rows[i]) if not is_blank(v))
            totals.append(self.total_note(sheet, numbers[i], columns, cell, key_header))
        if trailing:
            del numbers[trailing[0]:], rows[trailing[0]:]
        return DataRows(numbers, rows), totals

    def total_note(self, sheet: RawSheet, number: int, columns: dict, cell: tuple[int, object],
                   key_header: str) -> Problem:
        by_index = {index: header for index, header in columns.values()}
        column = by_index.get(cell[0], column_letter(sheet.first_col + cell[0]))
        return Problem(sheet.file, sheet.name, number, column, show(cell[1]),
                       f"is a totals row, not data: skipped (nothing to do; if it is data, give it "
                       f"a {key_header})", NOTED, NOTE)

    # --- typing ---------------------------------------------------------------------------

    def type_rows(self, sheet: RawSheet, kind: Kind, columns: dict, data: DataRows,
                  report: SheetReport) -> tuple[Rows, list[Problem]]:
        """Type column by column, collecting each row's errors; then assemble the rows that
        have none (I7: rejected rows are counted and each says why)."""
        errors: dict[int, list[Problem]] = {}
        warnings: dict[int, list[Problem]] = {}
        blanks: dict[str, list[int]] = {}       # field -> rows whose cell read as blank
        currencies: dict[str, dict[int, str]] = {}  # money field -> row -> currency its text named
        typed: list[list] = []
        for spec in kind.fields:
            if spec.name not in columns:
                typed.append([self.blank(spec)] * len(data))
                continue
            index, header = columns[spec.name]
            column = Column(self, sheet, spec, index, header, data, errors, warnings)
            typed.append(column.values())
            blanks[spec.name] = column.blanks
            if column.currencies:
                currencies[spec.name] = column.currencies
        self.error_cells(sheet, kind, columns, data, blanks, errors, warnings)
        names = kind.names
        if kind.one_of:  # I3: amount_usd or amount; a row with neither is rejected
            header = columns[next(f for f in kind.one_of if f in columns)][1]
            for i, values in enumerate(zip(*(typed[names.index(f)] for f in kind.one_of))):
                if values.count(None) == len(values) and i not in errors:
                    errors[i] = [Problem(sheet.file, sheet.name, data.numbers[i], header, "",
                                         "is empty but required: fill it in", "row rejected")]
        self.currency_problems(sheet, kind, columns, data, typed, currencies, errors)
        extra: list[list] = []
        if "activity_text" in kind.extra:
            index = columns["activity"][0]
            extra.append([parse_text(row[index]) for row in data.rows])
        provenance = [[sheet.file] * len(data), [sheet.name] * len(data), data.numbers]
        rows = Rows(dict(zip(kind.read_names, typed + provenance + extra))).without(sorted(errors))
        report.rejected += len(errors)
        # a rejected row's errors, an accepted row's warnings, in row order
        problems = [p for i in sorted(errors.keys() | warnings.keys())
                    for p in (errors[i] if i in errors else warnings[i])]
        if kind.name == "partners":
            for i in sorted(errors):
                if typed[0][i]:
                    self.rejected_partners.setdefault(typed[0][i], f"{sheet.file} [{sheet.name}] row {data.numbers[i]}")
        return rows, problems

    def blank(self, spec: Field) -> object:
        if spec.blank is not None:
            return spec.blank
        return "" if spec.type in TEXT_TYPES else None

    def error_cells(self, sheet: RawSheet, kind: Kind, columns: dict, data: DataRows,
                    blanks: dict[str, list[int]], errors: dict, warnings: dict) -> None:
        """Cells that read as blank may hold a spreadsheet error the reader could not show
        (python-calamine reads #N/A in an xlsx as empty): ask the sheet, only then (I6)."""
        if not any(blanks.values()):
            return
        cells = sheet.error_cells()
        if not cells:
            return
        for name, rows in blanks.items():
            spec, (index, header) = kind.field(name), columns[name]
            for i in rows:
                number = data.numbers[i]
                value = cells.get((number - sheet.first_row, index))
                if value is None:
                    continue
                problem = error_problem(sheet, number, header, value, spec)
                if spec.lenient:
                    warnings.setdefault(i, []).append(problem)
                else:
                    errors[i] = [p for p in errors.get(i, []) if p.column != header] + [problem]

    def currency_problems(self, sheet: RawSheet, kind: Kind, columns: dict, data: DataRows,
                          typed: list[list], currencies: dict, errors: dict) -> None:
        """A currency sign or code that contradicts the row's currency is a problem (I6)."""
        names = kind.names
        for name, named in currencies.items():
            spec = kind.field(name)
            row_currency = typed[names.index("currency")] if "currency" in names and not spec.in_usd else None
            for i, code in named.items():
                expected = "USD" if row_currency is None else (row_currency[i] or "USD")
                if code != expected and i not in errors:
                    number, row = data.numbers[i], data.rows[i]
                    index, header = columns[name]
                    why = ("the column is in USD: write the amount in US dollars" if spec.in_usd else
                           f"the row's currency is {expected}" + (" (Currency is blank)" if not row_currency[i] else "")
                           + ": correct the amount or the Currency column")
                    errors[i] = [Problem(sheet.file, sheet.name, number, header, show(row[index]),
                                         f"is in {code} but {why}", "row rejected")]


def _is_number(value: object) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    if isinstance(value, str):
        try:
            parse_money(value)
            return True
        except CellError:
            return False
    return False
