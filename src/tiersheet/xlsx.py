"""Writing tables into xlsx fast, with xlsxwriter in constant-memory mode.

xlsxwriter's public write methods spend most of their time on checks we do not need (for
formulas, ~30 regular expressions per cell looking for Excel 365 functions we never use; our
formulas arrive prepared, with `_xlfn.` where needed). At a million rows that decides the run
time (SPEC O9), so rows are stored straight into the worksheet's cell table, in the same cell
records the public methods make; `tests/test_xlsx.py` checks the files come out byte-identical.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime
from pathlib import Path
from typing import Literal, NamedTuple, Sequence, get_args

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import (CellBooleanTuple, CellDatetimeTuple, CellFormulaTuple,
                                  CellNumberTuple, CellStringTuple, ColumnInfo)

from .errors import TiersheetError
from .textsize import LINE_HEIGHT, fixed_lines, row_lines, tall_rows
from .xlsxparts import Workbook

EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_EPOCH_ORDINAL = EXCEL_EPOCH.toordinal()
MAX_URLS = 65_000    # Excel keeps at most 65,530 hyperlinks per sheet
MAX_TEXT = 32_767    # characters in a cell
MAX_ROWS = 1_048_576  # rows in a sheet
CHUNK_ROWS = 4096     # rows whose cells Table.write_many makes at a time (memory stays small)

# Printing (issue 8.10). A sheet prints landscape and is fitted to as few pages across as keep
# its text legible: at least LEGIBLE_SCALE of its size on landscape Letter (the narrower of
# Letter and A4) between MARGIN-inch side margins, at 96 pixels an inch. Columns are counted as
# LibreOffice lays them out, 7.43 pixels a character of width in Calibri 11 (Excel's are a
# little narrower, 7), and broken into pages between columns as a spreadsheet does.
MARGIN = 0.4
PAGE_PIXELS = (11.0 - 2 * MARGIN) * 96
LEGIBLE_SCALE = 0.75  # Calibri 11 printed at 75% is about 8 points

# A cell's style, by name (issue 9: a Format passed where a name belongs raises, see Book.style).
Style = Literal["text", "int", "money", "pct", "date", "bool", "wrap", "link", "header", "title",
                "section", "label", "note"]


STYLES = frozenset(get_args(Style))


def unknown_style(name) -> ValueError:
    """What a style that is not one of Style's names (a Format, a misspelt name) raises."""
    return ValueError(f"unknown cell style {name!r}: give a style name, one of {', '.join(get_args(Style))}")


class SheetFull(TiersheetError):
    """A table would run past the last row a sheet can hold."""


def serial(day: date) -> int | float:
    """Excel's serial number of a date (or date and time)."""
    if isinstance(day, datetime):
        return (day - datetime(1899, 12, 30)).total_seconds() / 86400
    return day.toordinal() - EXCEL_EPOCH_ORDINAL


def quote_sheet(name: str) -> str:
    return f"'{name}'" if re.search(r"[^A-Za-z0-9_]", name) else name


def text_literal(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def cached_value(value):
    """A formula's cached result as xlsx stores it: dates as serials, whole floats as ints."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value if value == value else None
    if isinstance(value, date):
        return serial(value)
    return value


def value_cell(value, fmt, date_fmt):
    """The cell record for an input value, or None for nothing (blank, None, NaN). Text is
    always text, never a formula (I8)."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        if not value:
            return None
        return CellStringTuple(value if len(value) <= MAX_TEXT else value[:MAX_TEXT], fmt)
    if kind is bool:
        return CellBooleanTuple(1 if value else 0, fmt)
    if kind is float:
        if math.isnan(value) or math.isinf(value):
            return None
        return CellNumberTuple(value, fmt)
    if kind is int:
        return CellNumberTuple(value, fmt)
    if isinstance(value, date):
        return CellDatetimeTuple(serial(value), fmt or date_fmt)
    if isinstance(value, (int, float)):  # numpy scalars
        return value_cell(float(value) if isinstance(value, float) else int(value), fmt, date_fmt)
    return value_cell(str(value), fmt, date_fmt)


_new = tuple.__new__  # a cell record without the namedtuple's Python-level __new__ (twice as fast)


def cached_column(values: list) -> list:
    """cached_value over a column; whole floats become ints ("3922", not "3922.0")."""
    kinds = set(map(type, values))
    if kinds <= {int, str, bool, type(None)}:
        return values
    if kinds <= {float, int}:
        return [v if type(v) is int else int(v) if v.is_integer() else v if v == v else None for v in values]
    return [cached_value(v) for v in values]


def column_cells(values: list, fmt, date_fmt) -> list:
    """value_cell over a whole column, with a fast path for the usual one-type columns."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds == {str}:
        return [None if not v else _new(CellStringTuple, (v if len(v) <= MAX_TEXT else v[:MAX_TEXT], fmt))
                for v in values]
    if kinds and kinds <= {float, int}:
        return [_new(CellNumberTuple, (v, fmt)) if v is not None and v - v == 0 else None for v in values]
    if kinds == {date}:
        fmt = fmt or date_fmt
        return [None if v is None else _new(CellDatetimeTuple, (v.toordinal() - EXCEL_EPOCH_ORDINAL, fmt))
                for v in values]
    return [value_cell(v, fmt, date_fmt) for v in values]


class Column(NamedTuple):
    """A table's column (a tuple: a table's columns are hashed, as the key of their Layout,
    seventy thousand times a month)."""
    key: str
    header: str
    width: float
    style: Style = "text"  # text, int, money, pct, date, bool; wrap: long text, wrapped in the width


@dataclass(frozen=True)
class Layout:
    """What a table's columns decide, worked out once a run rather than once a table (a month's
    statements make seventy thousand tables of a handful of kinds). Read-only: tables share it."""
    index: dict[str, int]           # key -> 0-based column
    letter: dict[str, str]          # key -> column letter
    wrapped: dict[str, float]       # key -> width, of the wrapped columns
    spans: list[tuple[int, int, float, Style]]  # neighbouring columns of one width and style
    header_height: float
    widths: tuple[float, ...]
    templates: dict[str, str]       # Table.template's results, by text


@lru_cache(maxsize=256)
def layout(columns: tuple[Column, ...]) -> Layout:
    for column in columns:
        if column.style not in STYLES:
            raise unknown_style(column.style)
    spans, first = [], 0
    for i, column in enumerate(columns):
        following = columns[i + 1] if i + 1 < len(columns) else None
        if following is None or (following.width, following.style) != (column.width, column.style):
            spans.append((first, i, column.width, column.style))
            first = i + 1
    lines = max(fixed_lines(c.header, c.width, bold=True) for c in columns)
    return Layout({c.key: i for i, c in enumerate(columns)}, {c.key: xl_col_to_name(i) for i, c in enumerate(columns)},
                  {c.key: c.width for c in columns if c.style == "wrap"}, spans, max(2, lines) * LINE_HEIGHT + 2,
                  tuple(c.width for c in columns), {})


def fit_row(sheet, row: int, cells: Sequence[tuple[object, float]]) -> None:
    """Give a row written cell by cell the height its wrapped (text, column width) cells need."""
    lines = row_lines(cells)
    if lines > 1:
        sheet.set_row(row, lines * LINE_HEIGHT)


def column_pixels(width: float) -> float:
    """A column's printed width, at 100%, as LibreOffice lays it out (Excel's is a little less)."""
    return (width + 5 / 7) * 7.43


@lru_cache(maxsize=256)
def pages_across(widths: tuple[float, ...], repeated: int = 1) -> int:
    """How many pages across columns of these widths take at LEGIBLE_SCALE, the first `repeated`
    columns printed again on every page after the first, each page breaking before the column
    that would not fit. Fitted to that many pages, a sheet prints at LEGIBLE_SCALE or more."""
    room = PAGE_PIXELS / LEGIBLE_SCALE
    pixels = [column_pixels(width) for width in widths]
    again = sum(pixels[:repeated])
    pages, used = 1, 0.0
    for column in pixels:
        if used + column > room and used > (again if pages > 1 else 0):
            pages += 1
            used = again
        used += column
    return pages


def fit_header(left: str, rest: str) -> str:
    """A page header of `left` text (which may hold input, such as a partner's name) and `rest`
    (its codes): the text without control characters, its "&" doubled, and cut to fit Excel's
    255 characters, which xlsxwriter would otherwise drop with a warning (I8)."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", left).replace("&", "&&")
    room = 255 - len(rest) - 2
    if len(text) > room:
        text = text[:room - 1]
        if re.search(r"(?<!&)(&&)*&$", text):  # half of a doubled "&" would be a code
            text = text[:-1]
        text += "…"
    return f"&L{text}{rest}"


def page_header(sheet, title: str) -> None:
    """On every printed page: the workbook's title, the sheet's name and the page number."""
    sheet.set_header(fit_header(title, "&C&\"-,Bold\"&A&RPage &P of &N"), margin=0.3)


def print_setup(sheet, title: str, widths: Sequence[float], repeated: int = 1) -> None:
    """Landscape, header row on every page, gridlines, the workbook, sheet and page number in
    the page header, fitted to as few pages across as stay legible (then as many pages down as
    the rows need); pages after the first across repeat the first `repeated` columns, and pages
    run across, then down, so one row's pages come together. Not shrunk onto one page."""
    sheet.set_landscape()
    sheet.set_margins(left=MARGIN, right=MARGIN, top=0.7, bottom=0.5)
    page_header(sheet, title)
    sheet.repeat_rows(0)
    sheet.hide_gridlines(0)  # print the gridlines too: each value stays in its cell on paper
    across = pages_across(tuple(widths), repeated)
    sheet.fit_to_pages(across, 0)
    if across > 1:
        sheet.repeat_columns(0, repeated - 1)
        sheet.print_across()


class Book:
    """An xlsxwriter workbook with our styles, counting the cells it writes."""

    def __init__(self, path: Path, created: datetime, title: str, small: bool = False):
        """`small`: a workbook of a few hundred rows (a statement), kept in memory and written in
        one go, three times faster than constant-memory mode's temporary files per sheet; large
        ones (the channel workbook) stream each row to disk as it is complete."""
        self.title = title
        self.xl = Workbook(str(path), {
            "constant_memory": not small, "in_memory": small, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "default_date_format": "yyyy-mm-dd",
            # Every cell sits at the top of its row, level with the first line of wrapped text:
            # set here, in every format and in the default one, so plain text needs no format.
            "default_format_properties": {"font_name": "Calibri", "font_size": 11, "valign": "top"}})
        # O1: a fixed creation date makes two runs over the same inbox byte-identical.
        self.xl.set_properties({"title": title, "author": "tiersheet", "created": created})
        self.values = 0
        self.formulas = 0
        self.names: set[str] | None = None  # set to a set to collect the names formulas use
        add = self.xl.add_format
        self.styles = {
            "header": add({"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF",
                           "text_wrap": True, "valign": "top", "border": 1}),
            "int": add({"num_format": "#,##0"}),
            "money": add({"num_format": "#,##0.00"}),
            "pct": add({"num_format": "0%"}),
            "date": add({"num_format": "yyyy-mm-dd"}),
            # LibreOffice shows formula booleans as 1/0 unless told; Excel ignores this format.
            "bool": add({"align": "center", "num_format": '"TRUE";"TRUE";"FALSE"'}),
            "wrap": add({"text_wrap": True, "valign": "top"}),
            "link": add({"font_color": "#0563C1", "underline": 1}),
            "title": add({"bold": True, "font_size": 16}),
            "section": add({"bold": True, "font_size": 12, "font_color": "#1F4E78"}),
            "label": add({"bold": True}),
            "note": add({"italic": True, "font_color": "#595959"}),
            "text": None,
        }
        assert set(self.styles) == set(get_args(Style))

    def style(self, name: Style):
        """The Format of a style name; anything else (a Format, a misspelt name) raises."""
        if isinstance(name, str) and name in self.styles:
            return self.styles[name]
        raise unknown_style(name)

    def put(self, sheet, row: int, col: int, value, style: Style = "text") -> None:
        """Write one input value by its type (text stays text)."""
        cell = value_cell(value, self.style(style), self.styles["date"])
        if cell is not None:
            store(sheet, row, [(col, cell)])
            self.values += 1

    def formula(self, sheet, row: int, col: int, formula: str, style: Style, cached) -> None:
        """One formula (leading '=') with its cached value."""
        if self.names is not None:
            self.names.update(names_in(formula))
        store(sheet, row, [(col, CellFormulaTuple(formula[1:], self.style(style), cached_value(cached)))])
        self.formulas += 1

    def define_name(self, name: str, cells: str) -> None:
        """A workbook-level name for `cells` ("Rules!$C$5"). xlsxwriter checks a name with five
        regular expressions each time; statements define the same few dozen names ten thousand
        times a month, so a name it has accepted once is then stored as define_name stores it."""
        if name in _ACCEPTED_NAMES:
            self.xl.defined_names.append([name, -1, cells, False])
        elif self.xl.define_name(name, "=" + cells) == 0:
            _ACCEPTED_NAMES.add(name)

    def close(self) -> None:
        """Write the file, then let the workbook go. Each xlsxwriter worksheet holds its
        workbook's add_format (a bound method: a reference cycle), so a closed workbook and
        everything in it would wait for the cyclic garbage collector, which freed about fifty
        statements' leftovers at a time (1.4 ms a statement in all); without the cycle they are
        freed the moment the last reference goes."""
        self.xl.close()
        for sheet in self.xl.worksheets():
            sheet.workbook_add_format = None


_ACCEPTED_NAMES: set[str] = set()  # workbook-level names xlsxwriter's define_name has accepted


@lru_cache(maxsize=8192)
def names_in(formula: str) -> frozenset[str]:
    """The upper-case words of a formula: its defined names among them (and function names)."""
    return frozenset(re.findall(r"(?<![A-Za-z0-9_$!'])[A-Z][A-Z0-9_]*(?![A-Za-z0-9_!(])", formula))


# benchmarks/run.py sets this to a list to capture every stored row (for the write floor).
recorder: list | None = None


def store(sheet, row: int, cells: list[tuple[int, tuple]]) -> None:
    """Put a row's cell records (columns ascending) into a worksheet: in constant-memory mode
    the rows before it are written out first; in memory, text goes to the shared strings as
    xlsxwriter's write_string puts it."""
    if recorder is not None:
        recorder.append(("row", sheet.name, row, cells))
    if sheet.constant_memory and row > sheet.previous_row:
        sheet._write_single_row(row)
    sheet._check_dimensions(row, cells[0][0])
    if len(cells) > 1:
        sheet._check_dimensions(row, cells[-1][0])
    table_row = sheet.table[row]
    if sheet.constant_memory:
        table_row.update(cells)
    else:
        shared = sheet.str_table._get_shared_string_index
        for col, cell in cells:
            table_row[col] = _new(CellStringTuple, (shared(cell[0]), cell[1])) if type(cell) is CellStringTuple else cell


def set_columns(sheet, spans: Sequence[tuple[int, int, float, object]]) -> None:
    """Each (first, last, width, format) as `sheet.set_column` stores it (the width in
    characters, at least 1; formatted columns count in the sheet's dimension, their extremes
    being all that counts): its argument checks cost more than a statement's few tables are
    worth, ten thousand statements a month."""
    digit, padding, col_info = sheet.max_digit_width, sheet.cell_padding, sheet.col_info
    for first, last, width, fmt in spans:
        info = ColumnInfo(width=int(width * digit + 0.5) + padding, column_format=fmt)  # one record a span
        for col in range(first, last + 1):
            col_info[col] = info
    formatted = [(first, last) for first, last, _, fmt in spans if fmt is not None]
    if formatted:
        sheet._check_dimensions(0, min(first for first, _ in formatted), True)
        sheet._check_dimensions(0, max(last for _, last in formatted), True)
    sheet.col_size_changed = True


class Table:
    """A sheet holding one table: header in row 1, frozen, filtered, formatted by column, and
    printed legibly (see print_setup); its first `key_columns` columns identify a row, and are
    printed again on every page across."""

    def __init__(self, book: Book, name: str, columns: Sequence[Column], key_columns: int = 1):
        self.book = book
        self.name = name
        self.ref = quote_sheet(name)
        self.columns = columns = tuple(columns)
        shape = layout(columns)  # an unknown style raises
        self.index, self.letter, self.wrapped, self.templates = shape.index, shape.letter, shape.wrapped, shape.templates
        styles = book.styles
        self.formats = {c.key: styles[c.style] for c in columns}
        self.sheet = book.xl.add_worksheet(name)
        self.row = 1  # next 0-based row to write
        self.urls = 0
        set_columns(self.sheet, [(first, last, width, styles[style]) for first, last, width, style in shape.spans])
        header = styles["header"]
        store(self.sheet, 0, [(i, _new(CellStringTuple, (c.header, header))) for i, c in enumerate(columns)])
        self.sheet.set_row(0, shape.header_height)
        self.sheet.freeze_panes(1, 0)
        print_setup(self.sheet, book.title, shape.widths, key_columns)

    def cell(self, key: str, row: int | str) -> str:
        """Absolute reference to `key` on 1-based spreadsheet row `row`, from another sheet (`row`
        may be a row marker that is replaced later, or "" for a prefix a row is appended to)."""
        return f"{self.ref}!${self.letter[key]}${row}"

    def row_ref(self, key: str, marker: str = "#") -> str:
        """Reference to `key` in the row a template is written on (the marker), from another sheet."""
        return f"{self.ref}!{self.letter[key]}{marker}"

    def link(self, key: str) -> str:
        """The start of a hyperlink target in column `key` ("Sales!A"), to which a row is added."""
        return f"{self.ref}!{self.letter[key]}"

    def span(self, key: str, first: int, last: int) -> str:
        return f"{self.ref}!${self.letter[key]}${first}:${self.letter[key]}${last}"

    def template(self, text: str) -> str:
        """Expand {key} to this sheet's column letter followed by the row marker #."""
        expanded = self.templates.get(text)
        if expanded is None:
            expanded = self.templates[text] = re.sub(r"\{(\w+)\}", lambda m: self.letter[m.group(1)] + "#", text)
        return expanded

    def write(self, values: dict, formulas: dict | None = None, links: dict | None = None) -> int:
        """Write one row: values by key, formulas as key -> (formula with # for this row,
        cached value), links as key -> (target cell, text). Returns the spreadsheet row."""
        return self.write_many(1, {k: [v] for k, v in values.items()},
                               {k: (f, [c]) for k, (f, c) in (formulas or {}).items()},
                               {k: ([t], [x]) for k, (t, x) in (links or {}).items()})

    def write_rows(self, rows: list[tuple[dict, dict]]) -> int:
        """Write rows given one by one as (values, formulas) like `write`, in one go."""
        if not rows:
            return self.row
        value_keys = list(dict.fromkeys(k for values, _ in rows for k in values))
        formula_keys = list(dict.fromkeys(k for _, formulas in rows for k in formulas))
        values = {k: [v.get(k) for v, _ in rows] for k in value_keys}
        formulas = {}
        for key in formula_keys:
            texts = [f[key][0] if key in f else None for _, f in rows]
            cached = [f[key][1] if key in f else None for _, f in rows]
            shared = texts[0] if texts[0] and all(t == texts[0] for t in texts) and "#" in texts[0] else None
            formulas[key] = (shared, cached) if shared else (
                [t.replace("#", str(self.row + 1 + i)) if t else None for i, t in enumerate(texts)], cached)
        return self.write_many(len(rows), values, formulas)

    def write_many(self, count: int, values: dict[str, list], formulas: dict | None = None,
                   links: dict | None = None) -> int:
        """Write `count` rows from columns. A formula column is (template, cached values), the
        template's # standing for the row, or (list of formulas, cached values). Links are
        (list of target cells such as "Sales!A5", list of texts). Returns the last row."""
        if self.row + count > MAX_ROWS:
            raise SheetFull(f"the {self.name} sheet would need {self.row + count:,} rows; a sheet holds "
                            f"{MAX_ROWS:,}. Split the inbox (for example with --through) and run again.")
        styles = self.book.styles
        date_fmt = styles["date"]
        specs = []
        for key, column in values.items():
            fmt = self.formats[key]
            cells = column_cells(column, fmt, date_fmt)
            specs.append((self.index[key], 0, cells, None, None))
            self.book.values += count - cells.count(None)
        for key, (formula, cached) in (formulas or {}).items():
            fmt = self.formats[key]
            cached = cached_column(cached)
            if isinstance(formula, str):
                specs.append((self.index[key], 1, cached, formula[1:], fmt))
                self.book.formulas += count
            else:  # one formula per row; None leaves the row to a value of the same key
                specs.append((self.index[key], 2, cached, [f and f[1:] for f in formula], fmt))
                self.book.formulas += count - formula.count(None)
        if self.book.names is not None:
            for _, kind, _, formula, _ in specs:
                for text in ([formula] if kind == 1 else set(formula) - {None} if kind == 2 else ()):
                    self.book.names.update(names_in(text))
        specs.sort(key=lambda spec: spec[0])
        heights: dict[int, int] = {}  # row index -> lines, for rows whose wrapped text needs more than one
        for key, width in self.wrapped.items():
            if key in values:
                tall_rows(values[key], width, heights)
            if formulas and key in formulas:
                tall_rows(formulas[key][1], width, heights)
        link_specs = [(self.index[key], targets, texts) for key, (targets, texts) in (links or {}).items()]
        sheet = self.sheet
        link_fmt = styles["link"]
        spec_columns = [spec[0] for spec in specs]
        for first in range(0, count, CHUNK_ROWS):  # a chunk's formula cells are made column by column
            stop = min(count, first + CHUNK_ROWS)
            row_numbers = [str(self.row + 1 + i) for i in range(stop - first)]
            cells_by_column = []
            for col, kind, data, formula, fmt in specs:
                if kind == 0:
                    cells_by_column.append(data[first:stop])
                elif kind == 1:
                    cells_by_column.append([_new(CellFormulaTuple, (formula.replace("#", number), fmt, cached))
                                            for number, cached in zip(row_numbers, data[first:stop])])
                else:
                    cells_by_column.append([_new(CellFormulaTuple, (f, fmt, cached)) if f else None
                                            for f, cached in zip(formula[first:stop], data[first:stop])])
            # rows of links alone have no cells, but are rows all the same
            chunk_cells = zip(*cells_by_column) if cells_by_column else [()] * (stop - first)
            for i, row_cells in enumerate(chunk_cells, first):
                r = self.row
                if heights and i in heights:
                    sheet.set_row(r, heights[i] * LINE_HEIGHT)
                cells = [(col, cell) for col, cell in zip(spec_columns, row_cells) if cell is not None]
                if cells:
                    store(sheet, r, cells)
                for col, targets, texts in link_specs:
                    if texts[i] in (None, ""):
                        continue
                    self.book.values += 1
                    if self.urls < MAX_URLS:
                        if recorder is not None:
                            recorder.append(("url", sheet.name, r, (col, f"internal:{targets[i]}", str(texts[i]))))
                        sheet.write_url(r, col, f"internal:{targets[i]}", link_fmt, string=str(texts[i]))
                        self.urls += 1
                    else:
                        sheet.write_string(r, col, str(texts[i]))
                self.row += 1
        return self.row

    def finish(self) -> None:
        if self.row > 1:
            self.sheet.autofilter(0, 0, self.row - 1, len(self.columns) - 1)
        self.sheet.print_area(0, 0, self.row - 1, len(self.columns) - 1)
