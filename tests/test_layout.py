"""The workbook reads on screen and on paper (O2, O3; issue 8.10): long text wraps inside its
column at a sensible width, and every table sheet prints landscape with its header row on every
page, one page wide only where that stays legible. Also issue 9: every Summary figure keeps its
number format."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from tiersheet.cli import main
from tiersheet.xlsx import Book

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "inbox"
MONTHS = ("2025-01", "2025-02", "2025-03")
TABLES = ("Partners", "Ledger", "Sales", "Activities", "Requirements", "Month close", "NFR", "Leads",
          "Co-op", "Exceptions", "Reconciliation")

# Landscape Letter (the narrower of Letter and A4), in pixels at 96 per inch. A column's stored
# width includes its padding (12 characters are stored as 12 + 5/7); LibreOffice lays out 7.43
# pixels for each (Calibri's digit width; Excel rounds it to 7).
LETTER_LANDSCAPE_INCHES = 11.0
LIBREOFFICE_PIXELS = 7.43
LEGIBLE_SCALE = 0.75  # Calibri 11 printed at 75% is about 8 points


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(main, ["run", str(SAMPLES), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # data_only: formula cells read as their cached values, the text a reader sees.
    return {month: openpyxl.load_workbook(out / f"tiersheet-{month}.xlsx", data_only=True) for month in MONTHS}


@pytest.fixture(scope="module")
def book(books):
    return books["2025-03"]


def widths(sheet) -> dict[int, float]:
    """1-based column -> width, expanding the <col min max> ranges openpyxl keys by first letter."""
    found = {}
    for dimension in sheet.column_dimensions.values():
        if dimension.width:
            for column in range(dimension.min, dimension.max + 1):
                found[column] = dimension.width
    return found


def column_of(sheet, header: str) -> int:
    headers = [cell.value for cell in sheet[1]]
    assert header in headers, f"{sheet.title} has no column {header!r}: {headers}"
    return headers.index(header) + 1


def body(sheet, column: int):
    return [row[0] for row in sheet.iter_rows(min_row=2, min_col=column, max_col=column) if row[0].value not in (None, "")]


def assert_wraps(sheet, header: str, narrowest: float, widest: float):
    column = column_of(sheet, header)
    width = widths(sheet).get(column)
    assert width and narrowest <= width <= widest, f"{sheet.title}!{header} is {width} wide"
    cells = body(sheet, column)
    assert cells, f"the sample has no {sheet.title}!{header} text to look at"
    for cell in cells:
        assert cell.alignment.wrap_text, f"{sheet.title}!{cell.coordinate} ({header}) does not wrap"
        assert cell.alignment.vertical == "top", f"{sheet.title}!{cell.coordinate} is not top-aligned"


def test_o2_partners_missing_for_status_and_next_wrap_at_a_readable_width(book):
    """O2, issue 8.10: "Missing for status" and "Missing for next" wrap inside a column of a
    sensible width instead of running into Certificate expires."""
    sheet = book["Partners"]
    assert_wraps(sheet, "Missing for status", 24, 48)
    assert_wraps(sheet, "Missing for next", 24, 48)


def test_o3_exceptions_problem_and_action_wrap(book):
    """O3, issue 8.10: on Exceptions, Problem and Action wrap instead of running into the next column."""
    sheet = book["Exceptions"]
    assert_wraps(sheet, "Problem", 30, 60)
    assert_wraps(sheet, "Action", 16, 30)


@pytest.mark.parametrize("month, sheet_name, header", [
    ("2025-01", "Ledger", "Explanation"),
    ("2025-01", "Leads", "Reason"),
    ("2025-01", "Co-op", "Reason"),
    ("2025-01", "Month close", "Certificate on file"),
    ("2025-01", "Month close", "Why"),
    ("2025-01", "Requirements", "Missing for Certified Partner"),
    ("2025-01", "Requirements", "Missing for Gold Certified Partner"),
    ("2025-01", "Activities", "Not counted because"),
    ("2025-01", "Activities", "Description"),
    ("2025-01", "Reconciliation", "File"),
])
def test_o3_long_text_columns_wrap_at_a_readable_width(books, month, sheet_name, header):
    """O3, issue 8.10: the other long text columns wrap too, at a width between 16 and 64."""
    assert_wraps(books[month][sheet_name], header, 16, 64)


def test_o3_no_text_runs_into_the_next_column(books):
    """O3, issue 8.10: on every table sheet of every month, text longer than its column is
    wide wraps; none spills into (or is cut off by) the next column."""
    spilling = []
    for month, workbook in books.items():
        for name in (*TABLES, "Rules"):
            sheet = workbook[name]
            width = widths(sheet)
            for row in sheet.iter_rows(min_row=2):
                for cell in row:
                    if (isinstance(cell.value, str) and len(cell.value) > width.get(cell.column, 8.43)
                            and not cell.alignment.wrap_text):
                        spilling.append(f"{month} {name}!{cell.coordinate} ({len(cell.value)} characters "
                                        f"in {width.get(cell.column)}): {cell.value[:40]!r}")
    assert not spilling, "\n".join(spilling)


def test_o3_rows_with_wrapped_text_are_tall_enough_to_show_it(books):
    """O3, issue 8.10: LibreOffice keeps a row without a stored height at one line, showing only
    the first line of wrapped text, so each row stores a height with room for its wrapped
    text (at 5 pixels a character, less than any real text takes) and the header row for its
    headers; and not wildly more (at 9 pixels a character, more than any real text takes, plus a line)."""
    wrong = []
    for month, workbook in books.items():
        for name in (*TABLES, "Rules"):
            sheet = workbook[name]
            width = widths(sheet)
            for row in sheet.iter_rows():
                texts = [(cell.value, width.get(cell.column, 8.43)) for cell in row
                         if isinstance(cell.value, str) and cell.alignment.wrap_text]
                if not texts:
                    continue
                height = sheet.row_dimensions[row[0].row].height or 15
                least = max(math.ceil(len(text) * 5 / (7 * w)) for text, w in texts)
                most = max(math.ceil(len(text) * 9 / (7 * w - 10)) for text, w in texts) + 1
                if not 15 * least <= height <= 15 * max(most, 2) + 3:
                    wrong.append(f"{month} {name} row {row[0].row}: {height} points for {least} to {most} lines")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", (*TABLES, "Rules"))
def test_o3_tables_print_landscape_with_the_header_row_on_every_page(book, name):
    """O3, issue 8.10: landscape, row 1 repeated on every printed page, and a print area that
    covers the whole table (every column, every row written)."""
    sheet = book[name]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$1:$1"
    last_column = get_column_letter(len([c for c in sheet[1] if c.value is not None]))
    assert sheet.print_area == f"'{name}'!$A$1:${last_column}${sheet.max_row}"


@pytest.mark.parametrize("name", (*TABLES, "Rules"))
def test_o3_printed_width_stays_legible(book, name):
    """O3, issue 8.10: a sheet is fitted to as many pages across as its columns take printed at
    75% (LibreOffice's column widths, a little wider than Excel's; pages breaking between
    columns) and no more: one page across when it fits, never shrunk to one page regardless;
    pages after the first repeat the identifying first column(s)."""
    sheet = book[name]
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    across = sheet.page_setup.fitToWidth or 1  # absent means 1
    assert sheet.page_setup.fitToHeight == 0   # as many pages down as the rows need
    margins = sheet.page_margins
    room = (LETTER_LANDSCAPE_INCHES - margins.left - margins.right) * 96 / LEGIBLE_SCALE
    width = widths(sheet)
    columns = [width.get(c, 8.43 + 5 / 7) * LIBREOFFICE_PIXELS for c in range(1, sheet.max_column + 1)]
    repeated = 0
    if across > 1:
        assert sheet.print_title_cols and sheet.print_title_cols.startswith("$A:$")
        last = sheet.print_title_cols.replace("$", "").split(":")[1]
        repeated = sum(columns[:openpyxl.utils.column_index_from_string(last)])
    pages, used = 1, 0.0
    for column in columns:  # pages at 75%, each breaking before the column that does not fit
        if used + column > room and used > (repeated if pages > 1 else 0):
            pages, used = pages + 1, repeated
        used += column
    assert across == pages, f"{name}: {across} pages across, {pages} at 75%"


def test_o2_partners_and_sales_paginate_across_instead_of_shrinking(book):
    """O2/O3, issue 8.10: Partners and Sales are too wide for one legible page: they print two or
    more pages across, each repeating the Partner ID (and Partner / Invoice ID) columns, pages
    in reading order (across, then down)."""
    for name, repeated in (("Partners", "$A:$B"), ("Sales", "$A:$B")):
        sheet = book[name]
        assert (sheet.page_setup.fitToWidth or 1) >= 2, name
        assert sheet.print_title_cols == repeated, name
        assert sheet.page_setup.pageOrder == "overThenDown", name


def test_o3_exceptions_print_one_page_wide(book):
    """O3, issue 8.10: Exceptions fits one page wide at a legible scale, as many pages down as needed."""
    sheet = book["Exceptions"]
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth or 1) == 1 and sheet.page_setup.fitToHeight == 0


@pytest.mark.parametrize("name", ("Summary", *TABLES, "Rules"))
def test_o3_printed_pages_name_the_workbook_sheet_and_page(book, name):
    """O3, issue 8.10: each printed page says which month's workbook and sheet it is, and its page number."""
    sheet = book[name]
    header = "".join(part.text or "" for part in (sheet.oddHeader.left, sheet.oddHeader.center, sheet.oddHeader.right))
    footer = "".join(part.text or "" for part in (sheet.oddFooter.left, sheet.oddFooter.center, sheet.oddFooter.right))
    assert "tiersheet 2025-03" in header + footer
    assert "&A" in header + footer and "&P" in header + footer and "&N" in header + footer


def test_o3_every_summary_figure_has_its_number_format(books):
    """O3, issue 9: every formula on the Summary shows with a number format (#,##0 for counts and
    points, #,##0.00 for money, TRUE/FALSE for the check), none in General."""
    for month, workbook in books.items():
        sheet = workbook["Summary"]
        labels = {}
        for row in sheet.iter_rows(min_row=5):
            label = row[0].value
            for cell in row[1:3]:
                if isinstance(cell.value, (int, float)):  # the figures (the column headers are text)
                    labels[(label, cell.column)] = cell.number_format
        assert labels, month
        general = [key for key, fmt in labels.items() if fmt == "General"]
        assert not general, f"{month}: {general}"
        for label in ("Upgrade", "Downgrade", "Renewed", "Lapsed", "At risk (R9)", "Sales points (R3)",
                      "Early-adopter bonus (R4)", "Activity points (R5)", "Rows read", "All partners"):
            assert labels[(label, 2)] == "#,##0", (month, label)
        assert labels[("Sales", 2)] == "#,##0.00"


def test_issue9_book_refuses_a_format_object_or_unknown_name_as_a_style(tmp_path):
    """Issue 9: Book.formula and Book.put take a style NAME; an xlsxwriter Format or a misspelt
    name raises instead of silently writing the cell in General."""
    book = Book(tmp_path / "styles.xlsx", datetime(2025, 1, 1), "t")
    sheet = book.xl.add_worksheet("S")
    with pytest.raises(ValueError, match="style"):
        book.formula(sheet, 0, 0, "=1+1", book.styles["int"], 2)
    with pytest.raises(ValueError, match="style"):
        book.formula(sheet, 1, 0, "=1+1", "integer", 2)
    with pytest.raises(ValueError, match="style"):
        book.put(sheet, 2, 0, 5, book.styles["money"])
    book.formula(sheet, 3, 0, "=1+1", "int", 2)
    book.close()
