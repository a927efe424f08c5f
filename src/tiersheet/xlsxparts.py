"""xlsxwriter's Workbook, Worksheet, Packager and SharedStrings, with parts of their XML
written from caches or a row at a time (SPEC O9: ten thousand statements a month).

Each part is xlsxwriter's own XML: made by xlsxwriter itself the first time and kept by
everything it depends on (`write_once`), or, for the cells, made by cellxml.py by xlsxwriter's
rules. `tests/test_xlsx.py` and `tests/test_cellxml.py` compare the files byte for byte with
those xlsxwriter's own classes write.
"""

from __future__ import annotations

import io
from typing import Callable

import xlsxwriter
import xlsxwriter.packager
import xlsxwriter.sharedstrings
from xlsxwriter.utility import _preserve_whitespace
from xlsxwriter.worksheet import ColumnInfo, Worksheet

from .cellxml import CellWriter


def write_once(owner, cache: dict, key, write: Callable[[], None]) -> None:
    """Write to `owner`'s XML what `write` writes there, from `cache` when `key` (everything
    that XML depends on) was written before: xlsxwriter's own XML, made once."""
    xml = cache.get(key)
    if xml is None:
        fh, owner.fh = owner.fh, io.StringIO()
        try:
            write()
            xml = owner.fh.getvalue()
        finally:
            owner.fh = fh
        if len(cache) >= 4096:
            cache.clear()
        cache[key] = xml
    owner.fh.write(xml)


class Sheet(Worksheet):
    """xlsxwriter's worksheet, with its cells written a row at a time (see cellxml.py) and its
    column records (<cols>) written from a cache.

    A statement's seven sheets hold about ninety column records, each made attribute by
    attribute and escaped by xlsxwriter: 0.65 ms a statement, for the same few layouts ten
    thousand times a month. The records are grouped into runs as xlsxwriter groups them, and
    the runs' XML, written once by xlsxwriter itself, is kept by everything it depends on
    (`tests/test_xlsx.py` compares the files with xlsxwriter's own)."""

    def __init__(self) -> None:
        super().__init__()
        self.cell_writer = CellWriter()

    def _write_single_row(self, current_row_num: int = 0) -> None:
        """Constant-memory mode: write the row before `current_row_num` (Worksheet's own, but
        for the cells)."""
        row_num, self.previous_row = self.previous_row, current_row_num
        cells = self.table.get(row_num)
        if cells:
            self._write_row_of_cells(row_num, None, cells)
        elif row_num in self.row_info or row_num in self.comments:
            self._write_empty_row(row_num, None, self.row_info[row_num])
        self.table.clear()

    def _write_rows(self) -> None:
        """In-memory mode: every row, with its spans (Worksheet's own, but for the cells)."""
        self._calculate_spans()
        table, row_info, comments, spans = self.table, self.row_info, self.comments, self.row_spans
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table.get(row_num)
            if cells or row_num in row_info or row_num in comments:
                span = spans.get(int(row_num / 16))
                if cells:
                    self._write_row_of_cells(row_num, span, cells)
                else:
                    self._write_empty_row(row_num, span, row_info.get(row_num))

    def _write_row_of_cells(self, row_num: int, span: str | None, cells: dict) -> None:
        self._write_row(row_num, span, self.row_info.get(row_num))
        self.cell_writer.write_cells(self, row_num, cells)
        self._xml_end_tag("row")

    def _write_cols(self) -> None:
        col_info = self.col_info
        if not col_info:
            return
        runs: list[tuple[int, int, ColumnInfo]] = []
        for col in sorted(col_info):
            info = col_info[col]
            if runs and col == runs[-1][1] + 1 and info == runs[-1][2]:  # xlsxwriter's test, by ==
                runs[-1] = (runs[-1][0], col, info)
            else:
                runs.append((col, col, info))
        # the formats' indices are taken in xlsxwriter's order (a format's first use numbers it)
        key = (self.max_digit_width, self.default_col_width, tuple(
            (first, last, info.width, info.column_format._get_xf_index() if info.column_format else 0,
             info.hidden, info.level, info.collapsed, info.autofit) for first, last, info in runs))
        write_once(self, _COLS_XML, key, super()._write_cols)


class Workbook(xlsxwriter.Workbook):
    """xlsxwriter's workbook, of Sheets, with each defined name's XML written from a cache (a
    statement defines some fifty names, most of them the same in every statement), packaged
    by our Packager."""
    worksheet_class = Sheet

    def _get_packager(self) -> "Packager":  # xlsxwriter's hook for its own packager's subclasses
        return Packager()

    def _write_defined_name(self, defined_name) -> None:
        write_once(self, _NAME_XML, tuple(defined_name),
                   lambda: super(Workbook, self)._write_defined_name(defined_name))


class Packager(xlsxwriter.packager.Packager):
    """xlsxwriter's packager, with the shared strings written by our SharedStrings."""

    def _write_shared_strings_file(self) -> None:  # xlsxwriter's own, but for the class
        sst = SharedStrings()
        sst.string_table = self.workbook.str_table
        if not self.workbook.str_table.count:
            return
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class SharedStrings(xlsxwriter.sharedstrings.SharedStrings):
    """xlsxwriter's shared strings table (sharedStrings.xml), each text's <si> element written
    from a cache: a statement's two hundred texts (labels, headers, the rules' words) are
    mostly the same in every statement, and each took two regular-expression substitutions,
    two searches and an escape (0.9 ms a statement)."""

    def _write_si(self, string) -> None:
        write_once(self, _SI_XML, string, lambda: self._write_text_si(string))

    def _write_text_si(self, string: str) -> None:
        """xlsxwriter's _write_si, but a text that looks like rich-text XML ("<r>...</r>") is
        text too: xlsxwriter would write it unescaped, making the workbook unreadable (I8;
        tiersheet writes no rich text, see cellxml.CellWriter.inline_text)."""
        string = self._escape_control_characters(string)
        self._xml_si_element(string, [("xml:space", "preserve")] if _preserve_whitespace(string) else [])


_COLS_XML: dict[tuple, str] = {}  # a sheet's <cols> element, by what it depends on (see Sheet)
_NAME_XML: dict[tuple, str] = {}  # a <definedName> element, by its name, sheet, cells and hiding
_SI_XML: dict[str, str] = {}      # a shared string's <si> element, by its text
