"""A row's cells as the XML xlsxwriter writes for them, made faster.

xlsxwriter writes each cell through `Worksheet._write_cell`: an attribute list, a regular
expression over each attribute (raising and catching a TypeError for every number), the cell's
class found by name, then one method per kind of cell. That is two thirds of the time a channel
workbook takes (a month at full scale writes about four million cells). Here a whole row is one
string, built from the same pieces: a format's ` s="N"` is worked out once per sheet (taking
its index when xlsxwriter would, on first use), and a text's escaped XML once per text (a
month's sales repeat the same partner IDs, products and customers thousands of times). A
full-scale month's workbook took 16.2 s instead of 27.9 s.

Each piece is xlsxwriter's own rule, and whatever is not one of the usual kinds of cell is
written by xlsxwriter itself; `tests/test_cellxml.py` compares the files byte for byte with
xlsxwriter's over every kind of cell and text, but one: a text that looks like rich-text XML
is written as text, where xlsxwriter would break the file (see `inline_text`).
"""

from __future__ import annotations

from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name
from xlsxwriter.worksheet import (CellBooleanTuple, CellDatetimeTuple, CellFormulaTuple, CellNumberTuple,
                                  CellStringTuple)

ERROR_CODES = frozenset(("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"))
USUAL = frozenset((CellNumberTuple, CellDatetimeTuple, CellFormulaTuple, CellStringTuple, CellBooleanTuple))
TEXT_CACHE_SIZE = 200_000  # texts whose XML is kept (a few tens of MB at most)

_letters: dict[int, str] = {}


def letters(col: int) -> str:
    name = _letters.get(col)
    if name is None:
        name = _letters[col] = xl_col_to_name(col)
    return name


class CellWriter:
    """Writes rows of one worksheet's cells; kept by the worksheet (see xlsxparts.Sheet), which it
    is handed each time rather than holding it (that would be a reference cycle, left to the
    cyclic collector: see garbage.no_collections)."""

    def __init__(self):
        self.styles: dict = {}            # Format -> ' s="N"'
        self.texts: dict[str, str] = {}   # text -> what follows the style in its <c> element

    def style(self, fmt) -> str:
        attr = self.styles.get(fmt)
        if attr is None:
            attr = self.styles[fmt] = f' s="{fmt._get_xf_index()}"'
        return attr

    def plain_style(self, sheet, row: int, col: int) -> str:
        """The style of a cell without a format: its row's format, else its column's."""
        info = sheet.row_info.get(row)
        if info is not None and info.row_format:
            return self.style(info.row_format)
        column = sheet.col_info.get(col)
        if column is not None and column.column_format is not None:
            return self.style(column.column_format)
        return ""

    def inline_text(self, sheet, text: str) -> str:
        """The rest of an inline-string cell (constant-memory mode), as
        Worksheet._write_cell makes it, but for a text that looks like rich-text XML ("<r>" at
        the start, "</r>" at the end): xlsxwriter would put it into the file unescaped, making
        the workbook unreadable (a partner named "<r>A & B</r>"); it is text, like any other
        (I8). tiersheet writes no rich text."""
        tail = self.texts.get(text)
        if tail is None:
            escaped = sheet._escape_control_characters(text)
            preserve = ' xml:space="preserve"' if _preserve_whitespace(escaped) else ""
            tail = f' t="inlineStr"><is><t{preserve}>{sheet._escape_data(escaped)}</t></is></c>'
            if len(self.texts) >= TEXT_CACHE_SIZE:
                self.texts.clear()
            self.texts[text] = tail
        return tail

    def write_cells(self, sheet, row: int, cells: dict) -> None:
        """Write the <c> elements of `cells` (column -> cell record) to `sheet`, in column order."""
        number = str(row + 1)
        inline = sheet.constant_memory
        escape = sheet._escape_data
        styles = self.styles
        parts = []
        for col in sorted(cells):
            cell = cells[col]
            kind = type(cell)
            if kind not in USUAL:  # blank, error, rich string, array formula: xlsxwriter's own
                parts = self._flush(sheet, parts, row, col, cell)
                continue
            fmt = cell[1]
            if fmt:
                style = styles.get(fmt) or self.style(fmt)
            else:
                style = self.plain_style(sheet, row, col)
            if kind is CellNumberTuple or kind is CellDatetimeTuple:
                parts.append(f'<c r="{letters(col)}{number}"{style}><v>{cell[0]:.16G}</v></c>')
            elif kind is CellFormulaTuple:
                value = cell[2]
                if isinstance(value, bool):
                    kind_attr, value = ' t="b"', 1 if value else 0
                elif isinstance(value, str):
                    kind_attr = "" if value == "" else ' t="e"' if value in ERROR_CODES else ' t="str"'
                    value = escape(value)
                else:
                    kind_attr = ""
                parts.append(f'<c r="{letters(col)}{number}"{style}{kind_attr}>'
                             f'<f>{escape(cell[0])}</f><v>{value}</v></c>')
            elif kind is CellStringTuple:
                if inline:
                    parts.append(f'<c r="{letters(col)}{number}"{style}{self.inline_text(sheet, cell[0])}')
                else:
                    parts.append(f'<c r="{letters(col)}{number}"{style} t="s"><v>{cell[0]}</v></c>')
            else:  # a boolean
                parts.append(f'<c r="{letters(col)}{number}"{style} t="b"><v>{cell[0]}</v></c>')
        if parts:
            sheet.fh.write("".join(parts))

    @staticmethod
    def _flush(sheet, parts: list, row: int, col: int, cell) -> list:
        """Write what is made so far, then `cell` by xlsxwriter itself."""
        if parts:
            sheet.fh.write("".join(parts))
        sheet._write_cell(row, col, cell)
        return []
