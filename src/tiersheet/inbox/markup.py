"""Spreadsheets written as markup: HTML tables (what many CRMs' "Export to Excel" saves as .xls)
and Excel 2003 XML (SpreadsheetML). Both are parsed by well-kept parsers (lxml, defusedxml):
no entity expansion, no network, no DTDs (I8)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from .files import RawSheet
from .values import SheetError


def read_html(data: bytes, display: str) -> list[RawSheet]:
    """Each <table> of an HTML file is a sheet ("Table 1", ...); a cell spanning rows or columns
    reads as its value in each (merged cells). Excel's own HTML keeps a cell's number in x:num."""
    import lxml.html

    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True,
                                  huge_tree=False)
    document = lxml.html.document_fromstring(data, parser=parser)
    sheets = []
    for number, table in enumerate(document.iter("table"), start=1):
        grid: dict[tuple[int, int], object] = {}
        for r, row in enumerate(table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")):
            c = 0
            for cell in row.xpath("./td | ./th"):
                while (r, c) in grid:
                    c += 1
                value = html_value(cell)
                for dr in range(_span(cell, "rowspan")):
                    for dc in range(_span(cell, "colspan")):
                        grid[(r + dr, c + dc)] = value
                c += _span(cell, "colspan")
        height = max((r for r, _ in grid), default=-1) + 1
        width = max((c for _, c in grid), default=-1) + 1
        rows = [[grid.get((r, c)) for c in range(width)] for r in range(height)]
        sheets.append(RawSheet(display, f"Table {number}", rows, 1))
    return sheets


def _span(cell, attribute: str) -> int:
    try:
        return max(1, min(int(cell.get(attribute, 1)), 1000))
    except ValueError:
        return 1


def html_value(cell) -> object:
    number = cell.get("x:num")
    if number not in (None, ""):
        try:
            return float(number)
        except ValueError:
            pass
    for br in cell.iter("br"):
        br.tail = "\ue000" + (br.tail or "")
    text = re.sub(r"[ \t\n\r\f]+", " ", cell.text_content()).replace(" \ue000", "\ue000")
    return text.replace("\ue000 ", "\ue000").replace("\ue000", "\n").strip(" \n") or None


SS = "{urn:schemas-microsoft-com:office:spreadsheet}"
X = "{urn:schemas-microsoft-com:office:excel}"


def read_spreadsheetml(path: Path, display: str) -> list[RawSheet]:
    """Every worksheet of an Excel 2003 XML workbook, streaming (defusedxml: no DTD, no
    entities); ss:Index gaps, merged cells (MergeAcross, MergeDown) and hidden sheets honoured."""
    from defusedxml.ElementTree import iterparse

    sheets: list[RawSheet] = []
    rows: list[list[object]] = []
    below: dict[tuple[int, int], object] = {}  # cells a MergeDown fills in later rows
    name = ""
    with open(path, "rb") as stream:
        for event, element in iterparse(stream, events=("start", "end"), forbid_dtd=True):
            tag = element.tag
            if event == "start":
                if tag == f"{SS}Worksheet":
                    name, rows, below = element.get(f"{SS}Name", f"Sheet{len(sheets) + 1}"), [], {}
                continue
            if tag == f"{SS}Row":
                index = int(element.get(f"{SS}Index", len(rows) + 1)) - 1
                rows.extend([] for _ in range(index - len(rows) + 1))
                row = rows[index]
                column = 0
                for cell in element.iter(f"{SS}Cell"):
                    if cell.get(f"{SS}Index"):  # a gap of empty cells before this one
                        column = int(cell.get(f"{SS}Index")) - 1
                    while (index, column) in below:
                        column += 1
                    value = _cell_value(cell)
                    across = int(cell.get(f"{SS}MergeAcross", 0))
                    down = int(cell.get(f"{SS}MergeDown", 0))
                    for dc in range(across + 1):
                        _put(row, column + dc, value)
                        for dr in range(1, down + 1):
                            below[(index + dr, column + dc)] = value
                    column += across + 1
                for (r, c), value in list(below.items()):
                    if r == index:
                        _put(row, c, value)
                        del below[(r, c)]
                element.clear()
            elif tag == f"{SS}Worksheet":
                hidden = element.findtext(f"{X}WorksheetOptions/{X}Visible") in ("SheetHidden", "SheetVeryHidden")
                sheets.append(RawSheet(display, name, rows, 1, hidden=hidden))
                element.clear()
    return sheets


def _put(row: list[object], column: int, value: object) -> None:
    row.extend([None] * (column - len(row) + 1))
    row[column] = value


def _cell_value(cell) -> object:
    data = cell.find(f"{SS}Data")
    if data is None:
        return None
    text = "".join(data.itertext())
    kind = data.get(f"{SS}Type")
    try:
        if kind == "Number":
            return float(text)
        if kind == "DateTime":
            return datetime.fromisoformat(text.rstrip("Z")[:19])
        if kind == "Boolean":
            return text.strip() == "1"
    except ValueError:
        return text
    if kind == "Error":
        return SheetError(text.strip())
    return text
