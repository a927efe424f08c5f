"""cellxml.CellWriter (issue 14): xlsxparts.Sheet writes a row's cells itself, a row at a time; the
files must be xlsxwriter's own, byte for byte, whatever the cells, texts, formats and mode."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xlsxwriter.worksheet import (CellBooleanTuple, CellDatetimeTuple, CellFormulaTuple, CellNumberTuple,
                                  CellStringTuple)

from tiersheet import cellxml
from tiersheet.xlsx import Book, store
from tiersheet.xlsxparts import Sheet

SPECIAL_TEXTS = ["", " lead", "trail ", "\tTab", "line\nbreak", "_x0041_", "a_x00e9_b", "\x00\x01\x1f",
                 "<r>rich?</r>", "<r>", "Smith & Sons <Ltd>", '"quoted"', "\ufffe\uffff", "Ünïcødé",
                 "名前", "\u00a0nbsp\u00a0", "\x85", "=SUM(A1)", "P00001", "x" * 300]
texts = st.one_of(st.sampled_from(SPECIAL_TEXTS),
                  st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
                  st.lists(st.sampled_from(SPECIAL_TEXTS), min_size=2, max_size=4).map("".join))


def looks_rich(text: str) -> bool:
    """What xlsxwriter takes for rich-text XML and writes unescaped (see test_i8_... below)."""
    return text.startswith("<r>") and text.endswith("</r>")


plain_texts = texts.filter(lambda text: bool(text) and not looks_rich(text))
numbers = st.one_of(st.integers(-10**18, 10**18), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([0, -0.0, 0.1, 1e-300, 123456789.123456789, 2**53 + 1]))
cached = st.one_of(st.none(), st.booleans(), numbers, texts,
                   st.sampled_from(["#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", ""]))
formulas = st.one_of(st.sampled_from(["Sales!$B$2*RATE", 'IF(A2>0,"a&b","<none>")', "A1&\" \"&B1",
                                      "_xlfn.XLOOKUP(A2,B:B,C:C)"]), texts.filter(bool))
STYLE_NAMES = [None, "int", "money", "wrap", "twin"]
cells = st.one_of(
    st.tuples(st.just("number"), numbers), st.tuples(st.just("datetime"), numbers),
    st.tuples(st.just("string"), plain_texts), st.tuples(st.just("formula"), formulas, cached),
    st.tuples(st.just("boolean"), st.sampled_from([0, 1, True, False])), st.tuples(st.just("blank")),
    st.tuples(st.just("url"), plain_texts), st.tuples(st.just("array"), numbers))
sheets = st.fixed_dictionaries({
    "cells": st.dictionaries(st.tuples(st.integers(0, 40), st.integers(0, 30)),
                             st.tuples(cells, st.sampled_from(STYLE_NAMES)), max_size=60),
    "rows": st.dictionaries(st.integers(0, 40), st.tuples(st.sampled_from([None, 30.0, 15.0]),
                                                          st.sampled_from(STYLE_NAMES)), max_size=6),
    "columns": st.lists(st.tuples(st.integers(0, 30), st.integers(0, 3), st.sampled_from(STYLE_NAMES)),
                        max_size=4),
})


def write(path: Path, small: bool, ours: bool, layout: dict) -> dict[str, bytes]:
    """A workbook of two sheets laid out by `layout`: with our Sheet, or xlsxwriter's own."""
    book = Book(path, datetime(2025, 1, 1), "t", small=small)
    if not ours:
        book.xl.__class__ = xlsxwriter.Workbook  # xlsxwriter's own workbook and worksheets
    styles = dict(book.styles, twin=book.xl.add_format({"num_format": "#,##0"}))  # equal to int's
    for name in ("One", "Two"):
        sheet = book.xl.add_worksheet(name)
        assert isinstance(sheet, Sheet) == ours
        for first, extra, style in layout["columns"]:
            sheet.set_column(first, first + extra, 14, styles.get(style))
        for row, (height, style) in sorted(layout["rows"].items()):
            sheet.set_row(row, height, styles.get(style))
        for (row, col), (spec, style) in sorted(layout["cells"].items()):
            fmt = styles.get(style)
            kind, *args = spec
            if kind == "blank":
                sheet.write_blank(row, col, None, fmt)
            elif kind == "url":
                sheet.write_url(row, col, f"internal:Two!A{row + 1}", fmt, string=args[0])
            elif kind == "array":
                sheet.write_array_formula(row, col, row, col, "{=SUM(A1:A2*B1:B2)}", fmt, args[0])
            else:
                record = {"number": CellNumberTuple, "datetime": CellDatetimeTuple, "string": CellStringTuple,
                          "boolean": CellBooleanTuple}.get(kind)
                cell = CellFormulaTuple(args[0], fmt, args[1]) if kind == "formula" else record(args[0], fmt)
                store(sheet, row, [(col, cell)])
    book.close()
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("small", [False, True], ids=["constant-memory", "in-memory"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=sheets)
def test_o4_cells_written_a_row_at_a_time_are_xlsxwriters_own_bytes(tmp_path, small, layout):
    assert write(tmp_path / "ours.xlsx", small, True, layout) == write(tmp_path / "own.xlsx", small, False, layout)


def test_o4_texts_remembered_or_forgotten_make_the_same_bytes(tmp_path, monkeypatch):
    """A text's XML is remembered; once TEXT_CACHE_SIZE texts are held they are forgotten and
    made again: the same file either way."""
    layout = {"cells": {(row, col): (("string", text), None) for row in range(20)
                        for col, text in enumerate([f" id {row % 3}", "A & B", "_x0041_", "\x01"])},
              "rows": {}, "columns": []}
    own = write(tmp_path / "own.xlsx", False, False, layout)
    assert write(tmp_path / "ours.xlsx", False, True, layout) == own
    monkeypatch.setattr(cellxml, "TEXT_CACHE_SIZE", 2)
    assert write(tmp_path / "small-cache.xlsx", False, True, layout) == own
    sheet = own["xl/worksheets/sheet1.xml"].decode()
    assert '<c r="A1" t="inlineStr"><is><t xml:space="preserve"> id 0</t></is></c>' in sheet
    assert '<t>_x005F_x0041_</t>' in sheet and '<t>_x0001_</t>' in sheet and "<t>A &amp; B</t>" in sheet


RICH_LOOKING = ["<r>Evil & Co</r>", "<r><t>Sneaky</t></r>", "<r></r>", "<r>\x01 70010 </r>"]


@pytest.mark.parametrize("small", [False, True], ids=["constant-memory", "in-memory"])
def test_i8_text_that_looks_like_rich_text_xml_is_text_and_the_file_opens(tmp_path, small):
    """xlsxwriter writes a text from "<r>" to "</r>" into the file unescaped, as rich-text XML:
    a partner named "<r>Evil & Co</r>" would make the workbook unreadable. Ours is text."""
    layout = {"cells": {(row, 0): (("string", text), None) for row, text in enumerate(RICH_LOOKING)},
              "rows": {}, "columns": []}
    write(tmp_path / "ours.xlsx", small, True, layout)
    book = openpyxl.load_workbook(tmp_path / "ours.xlsx")
    assert [cell.value for cell in book["One"]["A"]] == ["<r>Evil & Co</r>", "<r><t>Sneaky</t></r>", "<r></r>",
                                                         "<r>_x0001_ 70010 </r>"]  # as Excel shows \x01
    write(tmp_path / "own.xlsx", small, False, layout)
    with pytest.raises(Exception, match="not well-formed|mismatched tag"):  # why: xlsxwriter's own breaks
        openpyxl.load_workbook(tmp_path / "own.xlsx")
