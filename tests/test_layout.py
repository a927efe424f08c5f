"""The workbook reads on screen and on paper (O3). Issue 9: every Summary figure keeps its
number format."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tiersheet.cli import main
from tiersheet.xlsx import Book

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "inbox"
MONTHS = ("2025-01", "2025-02", "2025-03")


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(main, ["run", str(SAMPLES), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # data_only: formula cells read as their cached values, the text a reader sees.
    return {month: openpyxl.load_workbook(out / f"tiersheet-{month}.xlsx", data_only=True) for month in MONTHS}


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
