"""The fast cell store writes exactly what xlsxwriter's public methods write (O9 without losing O4)."""

from __future__ import annotations

import math
import re
import zipfile

import pytest
from hypothesis import given, settings, strategies as st
from datetime import date, datetime

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from tiersheet.textsize import text_lines, text_pixels
from tiersheet.xlsx import Book, Column, Table, fit_row

ROWS = [
    ["INV-1", 330.0, date(2025, 1, 5), True, "=starts like a formula", 12],
    ["INV-2", -75.5, date(2025, 2, 28), False, "", 0],
    ["", float("nan"), None, True, "+49 30 1234", 7],
]
FORMULAS = ["=TRUNC(B#/10)", '=IF(D#,"yes","")', "=_xlfn.TEXTJOIN(\"; \",TRUE,A#,E#)"]
CACHED = [[33.0, "yes", "INV-1; =starts like a formula"], [-7.0, "", "INV-2"], [0.0, "yes", "+49 30 1234"]]
WRAPPED = ["short", "a long text that wraps over several lines in a narrow column, so its row is taller", None]


def sheet_xml(path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("small", [False, True], ids=["constant-memory", "in-memory"])
def test_fast_store_matches_public_api(tmp_path, small):
    columns = [Column("a", "A", 10), Column("b", "B", 10, "money"), Column("c", "C", 10, "date"),
               Column("d", "D", 8, "bool"), Column("e", "E", 20), Column("f", "F", 8, "int"),
               Column("g", "G", 8, "int"), Column("h", "H", 8), Column("i", "I", 30), Column("j", "J", 12, "wrap")]
    fast = Book(tmp_path / "fast.xlsx", datetime(2025, 1, 1), "t", small=small)
    table = Table(fast, "T", columns)
    keys = "abcdef"
    table.write_many(len(ROWS), {**{k: [row[i] for row in ROWS] for i, k in enumerate(keys)}, "j": WRAPPED},
                     {k: (FORMULAS[i], [c[i] for c in CACHED]) for i, k in enumerate("ghi")})
    table.finish()
    fast.close()

    slow = Book(tmp_path / "slow.xlsx", datetime(2025, 1, 1), "t", small=small)
    reference = Table(slow, "T", columns)  # same header, widths and page setup
    sheet, styles = reference.sheet, slow.styles
    for r, row in enumerate(ROWS, start=1):
        fit_row(sheet, r, [(WRAPPED[r - 1], 12)])  # a row with wrapped text gets the height it needs
        for c, value in enumerate(row):
            fmt = styles[columns[c].style]
            if value is None or value == "" or (isinstance(value, float) and value != value):
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value, fmt)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, c, value, fmt)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, value, fmt)
            else:
                sheet.write_string(r, c, value, fmt)
        for i, formula in enumerate(FORMULAS):
            cached = CACHED[r - 1][i]
            cached = int(cached) if isinstance(cached, float) and cached.is_integer() else cached
            sheet.write_formula(r, 6 + i, formula.replace("#", str(r + 1)), styles[columns[6 + i].style], cached)
        if WRAPPED[r - 1]:  # last in the row, as the fast store writes (shared strings keep that order)
            sheet.write_string(r, 9, WRAPPED[r - 1], styles["wrap"])
    reference.row = 1 + len(ROWS)
    reference.finish()
    slow.close()
    assert members(tmp_path / "fast.xlsx") == members(tmp_path / "slow.xlsx")  # shared strings too
    assert (b"sharedStrings" in members(tmp_path / "fast.xlsx")["[Content_Types].xml"]) is small
    assert fast.formulas == 9 and fast.values == 6 + 5 + 3 + 2  # blanks, "" and NaN write nothing
    assert re.search(rb'<row r="3"[^>]* ht="', sheet_xml(tmp_path / "fast.xlsx"))  # the long wrapped text's row


def test_a_table_never_runs_past_the_last_sheet_row(tmp_path, monkeypatch):
    import pytest

    from tiersheet import xlsx

    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)  # a sheet of 4 rows: the header and 3 more
    book = Book(tmp_path / "full.xlsx", datetime(2025, 1, 1), "t")
    table = Table(book, "Sales", [Column("a", "A", 10)])
    table.write_many(3, {"a": ["x", "y", "z"]})
    with pytest.raises(xlsx.SheetFull, match="Sales sheet would need 5 rows"):
        table.write_many(1, {"a": ["w"]})
    book.close()


def test_set_columns_and_repeated_names_store_what_xlsxwriter_public_methods_store(tmp_path):
    """set_columns and Book.define_name (a name's second and later times) skip xlsxwriter's
    checks; the files come out byte-identical to set_column and define_name's."""
    from tiersheet.xlsx import set_columns

    def book(name: str, fast: bool) -> dict[str, bytes]:
        made = Book(tmp_path / f"{name}.xlsx", datetime(2025, 1, 1), "t", small=True)
        sheet = made.xl.add_worksheet("Rules", worksheet_class=None if fast else Worksheet)
        spans = [(0, 2, 12.5, made.styles["money"]), (3, 3, 7, None), (4, 6, 30, made.styles["wrap"])]
        if fast:
            set_columns(sheet, spans)
            made.define_name("RATE", "Rules!$C$2")
            made.define_name("RATES", "Rules!$C$2:$C$4")
        else:
            for first, last, width, fmt in spans:
                sheet.set_column(first, last, width, fmt)
            made.xl.define_name("RATE", "=Rules!$C$2")
            made.xl.define_name("RATES", "=Rules!$C$2:$C$4")
        sheet.write_number(1, 2, 0.25)
        made.close()
        return members(tmp_path / f"{name}.xlsx")

    public = book("public", fast=False)
    assert book("first", fast=True) == public   # names checked by define_name
    assert book("again", fast=True) == public   # names accepted before: stored directly
    assert b'<col min="1" max="3" width="13.28515625" style="' in public["xl/worksheets/sheet1.xml"]


@pytest.mark.parametrize("small", [False, True], ids=["constant-memory", "in-memory"])
def test_xml_from_the_caches_is_xlsxwriters_own(tmp_path, small):
    """Sheet writes <cols>, and Workbook each <definedName>, from a cache: written twice (the
    second time from the cache), the files come out byte-identical to xlsxwriter's own
    workbook and worksheets'. Column layouts include
    neighbouring columns whose formats are equal but not the same object (two runs, where one
    format object makes one), hidden and default-width columns, formats first used by a column,
    and a sheet without columns."""
    def layouts(made: Book, sheet, merged, twins) -> None:
        add = made.xl.add_format
        twin_a, twin_b = add({"num_format": "0.000"}), add({"num_format": "0.000"})
        merged.set_column(0, 2, 12.5, twin_a)  # one run; with the twins, two
        merged.write_number(0, 0, 3)
        twins.set_column(0, 1, 12.5, twin_a)
        twins.set_column(2, 2, 12.5, twin_b)
        twins.write_number(0, 0, 4)
        sheet.set_column(0, 1, 12.5, twin_a)
        sheet.set_column(2, 2, 12.5, twin_b)
        sheet.set_column(3, 5, None, made.styles["money"])
        sheet.set_column(6, 6, 9, None, {"hidden": True})
        sheet.set_column(7, 7, 8.43)
        sheet.set_column(9, 11, 40, add({"italic": True}))  # used by a column only
        sheet.write_number(0, 0, 1.5)

    def book(name: str, fast: bool) -> dict[str, bytes]:
        made = Book(tmp_path / f"{name}.xlsx", datetime(2025, 1, 1), "t", small=small)
        if not fast:
            made.xl.__class__ = xlsxwriter.Workbook  # xlsxwriter's own, and its own worksheets
        kind = None
        merged = made.xl.add_worksheet("Merged", worksheet_class=kind)
        twins = made.xl.add_worksheet("Twins", worksheet_class=kind)
        layouts(made, made.xl.add_worksheet("One", worksheet_class=kind), merged, twins)
        made.xl.add_worksheet("Bare", worksheet_class=kind).write_string(0, 0, "no columns")
        second = made.xl.add_worksheet("Two", worksheet_class=kind)
        second.set_column(0, 3, 20, made.styles["int"])
        second.write_number(0, 0, 2)
        second.autofilter(0, 0, 4, 3)   # local, hidden names
        second.print_area(0, 0, 4, 3)
        made.define_name("RATE", "Rules!$C$2")
        made.define_name("PAIR", "'R&D'!$A$1:$C$3")  # escaped in the XML
        made.xl.define_name("Two!LOCAL", "=Two!$B$2")
        made.close()
        return members(tmp_path / f"{name}.xlsx")

    public = book("public", fast=False)
    assert book("cached-first", fast=True) == public
    assert book("cached-again", fast=True) == public
    assert public["xl/worksheets/sheet1.xml"].count(b"<col ") == 1
    assert public["xl/worksheets/sheet2.xml"].count(b"<col ") == 2  # the twins are not merged
    assert public["xl/worksheets/sheet3.xml"].count(b"<col ") == 6
    assert public["xl/workbook.xml"].count(b"<definedName ") == 5


def test_rows_of_links_alone_are_written_row_by_row(tmp_path):
    """write_many with only a links column still writes each row, on its own row number."""
    book = Book(tmp_path / "links.xlsx", datetime(2025, 1, 1), "t", small=True)
    table = Table(book, "T", [Column("ref", "Reference", 12)])
    assert table.write_many(2, {}, {}, {"ref": (["T!A1", "T!A1"], ["first", "second"])}) == 3
    table.finish()
    book.close()
    xml = sheet_xml(tmp_path / "links.xlsx")
    assert b'<row r="2"' in xml and b'<row r="3"' in xml and xml.count(b"<hyperlink ") == 2


def plain_text_lines(text: str, width: float, bold: bool = False) -> int:
    """text_lines as first written: every text measured, every word measured each time."""
    room = 7 * width / (1.03 if bold else 1)
    if "\n" not in text and text_pixels(text) <= room:
        return 1
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split(" "):
            size = text_pixels(word)
            if used and used + text_pixels(" ") + size > room:
                lines += 1
                used = 0.0
            elif used:
                used += text_pixels(" ")
            if used + size > room:
                extra = math.ceil(size / room) - 1
                lines += extra
                size -= extra * room
            used += size
    return lines


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["P00001,", "il", "W", "a", "  ", " ", "\n", "\x7f", "\x01", "é", "漢", "WWWWWWWWWWWW"]),
                max_size=120).map("".join), st.sampled_from([5, 8, 12, 22, 40, 58]), st.booleans())
def test_wrapped_lines_are_counted_as_a_plain_measure_counts_them(text, width, bold):
    """text_lines remembers words' widths and does not measure a text too long for one line;
    its counts are those of measuring everything, every time."""
    assert text_lines(text, width, bold) == plain_text_lines(text, width, bold)


def test_a_leads_reason_of_partner_ids_wraps_by_whole_words():
    """A lead's reason lists the partners in turn: in a column 12 characters wide (84 pixels)
    "P00001," is 6,759 units of 2048 to the em of 14.67 pixels (48.40), so two of them and a
    space (3.32) do not fit: each ID takes a line of its own."""
    assert text_pixels("P00001,") == pytest.approx(6759 * 11 * 96 / 72 / 2048)
    assert text_pixels("P00001,") == pytest.approx(48.40, abs=0.01)
    ids = ", ".join(f"P{i:05d}" for i in range(1, 301))
    assert text_lines(ids, 12) == 300
    assert text_lines("turn after P00007 among " + ids, 40) == plain_text_lines("turn after P00007 among " + ids, 40)
