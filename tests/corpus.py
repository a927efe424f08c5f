"""A corpus of export shapes (issue 10): one clean baseline inbox, and the same data written the
way CRMs, billing systems and colleagues export it. Every shape must read to the same rows.

    python tests/corpus.py OUTDIR      # writes OUTDIR/<shape>/ for every shape

Activity dates all have days of 12 or less, so their columns cannot decide day/month order on
their own: every shape that writes them as numbers carries a tiersheet.toml saying the order (I6).
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date
from html import escape
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import openpyxl

D = date
PARTNER_HEADERS = ["Partner ID", "Partner Name", "Territories", "Joined On", "Starting Status",
                   "Opening Points", "Certificate Issued On", "Partner Agreement", "NDA",
                   "Certified Engineers", "Certified Sales Specialists", "First Line Support",
                   "Logo On Website", "Product Descriptions On Website", "Sales Commitment USD",
                   "Forecast Submitted"]
PARTNERS = [
    ["P001", "Lumière Logiciels SARL", "FR", D(2020, 11, 23), "Gold", 2950, D(2024, 6, 15),
     "yes", "yes", 2, 3, "yes", "yes", "yes", 3000, "yes"],
    ["P002", "Hanse Müller GmbH", "DE", D(2024, 10, 17), "Business", 240, D(2024, 10, 17),
     "yes", "yes", 2, 2, "yes", "yes", "yes", 5000, "yes"],
    ["P003", "Ærø Data ApS", "DK", D(2023, 1, 16), "Certified", 860, D(2024, 1, 25),
     "yes", "yes", 1, 1, "yes", "yes", "yes", None, "no"],
    ["P004", "Cedar Point Ltd", "GB", D(2024, 5, 20), "Business", 120, D(2024, 5, 20),
     "yes", "yes", 1, 1, "yes", "yes", "yes", None, "no"],
]
SALES_HEADERS = ["Invoice ID", "Partner ID", "Invoice Date", "Product", "Amount", "Currency"]
SALES = [
    ["100101", "P001", D(2025, 1, 15), "Bitrix Intranet", 1234.5, "USD"],
    ["100102", "P002", D(2025, 1, 10), "Bitrix Site Manager", 3480, "USD"],
    ["100103", "P002", D(2025, 1, 22), "Bitrix Site Manager", 2260, "USD"],
    ["100104", "P003", D(2025, 1, 17), "Bitrix Intranet", 1490, "USD"],
    ["100105", "P004", D(2025, 1, 20), "Bitrix Intranet", 1490, "USD"],
    ["100201", "P001", D(2025, 2, 6), "Bitrix Intranet", 1380, "EUR"],
    ["100202", "P004", D(2025, 2, 18), "Bitrix Site Manager", 330, "USD"],
    ["100203", "P002", D(2025, 2, 13), "Bitrix Site Manager", -1790, "USD"],   # credit note
    ["100204", "P003", D(2025, 2, 26), "Bitrix Site Manager", 420, "USD"],
    ["100301", "P001", D(2025, 3, 20), "Bitrix Intranet", 4990, "USD"],
    ["100302", "P004", D(2025, 3, 11), "Bitrix Intranet", 990, "USD"],
    ["100303", "P002", D(2025, 3, 18), "Bitrix Site Manager", 12345.67, "USD"],
]
RATE_HEADERS = ["Currency", "Month", "USD Rate"]
RATES = [["EUR", "2025-02", 1.04]]
ACTIVITY_HEADERS = ["Activity ID", "Partner ID", "Date", "Activity", "Approved On", "Description"]
ACTIVITIES = [  # every day is 12 or less: the columns cannot decide day/month order (I6)
    ["A-01", "P002", D(2025, 1, 9), "Bitrix dedicated seminars", D(2025, 1, 6), "Hamburg seminar"],
    ["A-02", "P004", D(2025, 2, 10), "Case study delivery", None, "Case study:\nLeeds law firm"],
    ["A-03", "P001", D(2025, 3, 4), "seminar", D(2025, 2, 11), "Lyon, 35 guests"],
    ["A-04", "P003", D(2025, 3, 12), "Project publishing at Bitrix website", None, "Showcase"],
]
LEAD_HEADERS = ["Lead ID", "Received On", "Territory", "Company"]
LEADS = [["0041", D(2025, 1, 8), "FR", "Cabinet Marchand"],   # text IDs keep leading zeros
         ["0042", D(2025, 2, 12), "FR", "Mairie de Saint-Aubin"],
         ["0043", D(2025, 3, 19), "DE", "Weingut Albrecht"]]
CLAIM_HEADERS = ["Claim ID", "Partner ID", "Date", "Expense USD", "Requested USD", "Description"]
CLAIMS = [["C-1", "P001", D(2025, 1, 24), 1200, 600, "Ads"],
          ["C-2", "P003", D(2025, 2, 20), 2400, None, "Print ads"],
          ["C-3", "P004", D(2025, 3, 19), 1200, 600, "Breakfast event"]]

TABLES = {"Partners": (PARTNER_HEADERS, PARTNERS), "Sales": (SALES_HEADERS, SALES),
          "Rates": (RATE_HEADERS, RATES), "Activities": (ACTIVITY_HEADERS, ACTIVITIES),
          "Leads": (LEAD_HEADERS, LEADS), "Co-op": (CLAIM_HEADERS, CLAIMS)}
MONEY = {"Amount", "Expense USD", "Requested USD", "Sales Commitment USD"}
SIGNS = {"USD": "$", "EUR": "€"}


# --- how each convention writes a value -------------------------------------------------------

def money(value: float, style: str, currency: str = "USD") -> str:
    """An amount as text in one of I6's conventions."""
    whole, cents = f"{abs(value):,.2f}".split(".")
    sign = SIGNS[currency]
    negative = value < 0
    if style == "us":       # $1,234.50, (1,790.00)
        text = f"{sign}{whole}.{cents}"
        return f"({text})" if negative else text
    if style == "eu":       # 1.234,50 €, -1.790,00
        text = f"{whole.replace(',', '.')},{cents}" + ("" if currency == "USD" else f" {sign}")
        return "-" + text if negative else text
    if style == "fr":       # 1 234,50 with non-breaking spaces, 1 790,00- (trailing minus)
        text = f"{whole.replace(',', chr(0xA0))},{cents}"
        return text + "-" if negative else text
    if style == "swiss":    # 1'234.50, USD -1'790.00
        return f"{currency} " + ("-" if negative else "") + f"{whole.replace(',', chr(39))}.{cents}"
    if style == "code":     # 1234.50 USD
        return f"{'-' if negative else ''}{abs(value):.2f} {currency}"
    raise ValueError(style)


def day(value: date, style: str) -> str:
    if style == "mdy":
        return f"{value.month}/{value.day}/{value.year}"
    if style == "dmy.":
        return f"{value:%d.%m.%Y}"
    if style == "dmy/":
        return f"{value:%d/%m/%Y}"
    if style == "iso time":
        return f"{value:%Y-%m-%d} 00:00:00"
    if style == "named":
        return f"{value.day}-{value:%b}-{value.year}"
    raise ValueError(style)


def as_text(table: str, headers: list[str], row: list, money_style: str, date_style: str) -> list[str]:
    """One row as an export writes it in text."""
    out = []
    currency = row[headers.index("Currency")] if "Currency" in headers else "USD"
    for header, value in zip(headers, row):
        if value is None:
            out.append("")
        elif isinstance(value, date):
            out.append(day(value, date_style))
        elif header in MONEY:
            out.append(money(value, money_style, currency))
        elif header == "USD Rate":
            out.append(str(value).replace(".", "," if money_style in ("eu", "fr") else "."))
        else:
            out.append(str(value))
    return out


def settings(folder: Path, order: str | None) -> None:
    if order:
        (folder / "tiersheet.toml").write_text(f'[formats]\ndates = "{order}"\n', encoding="utf-8")


# --- the shapes -------------------------------------------------------------------------------

def baseline(folder: Path) -> None:
    """The clean inbox: one xlsx, real dates and numbers, header in row 1."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (headers, rows) in TABLES.items():
        sheet = book.create_sheet(name)
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
    book.save(folder / "inbox.xlsx")


def one_file_per_kind(folder: Path) -> None:
    """The baseline's data, one single-sheet workbook per kind (what LibreOffice can save as CSV
    with its default settings, which write the first sheet only)."""
    for name, (headers, rows) in TABLES.items():
        book = openpyxl.Workbook()
        book.active.title = name
        book.active.append(headers)
        for row in rows:
            book.active.append(row)
        book.save(folder / f"{name.lower()}.xlsx")


def xlsx_report(folder: Path) -> None:
    """A report workbook: title rows (one merged) above each header, totals rows, a blank row,
    invoice IDs as numbers, invoice dates as Excel serial numbers, the leads on a hidden sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (headers, rows) in TABLES.items():
        sheet = book.create_sheet(name)
        sheet.append([f"{name} report"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        sheet.append(["Filter: all partners, January to March 2025"])
        sheet.append([])
        sheet.append(headers)
        for i, row in enumerate(rows):
            row = list(row)
            if name == "Sales":
                row[0] = int(row[0])
                row[2] = (row[2] - D(1899, 12, 30)).days
            sheet.append(row)
            if i == 1:
                sheet.append([])
        if name == "Sales":
            sheet.append(["Grand total", None, None, None, sum(r[4] for r in rows)])
        if name == "Co-op":
            sheet.append([None, None, None, sum(r[3] for r in rows), 1200])
        if name == "Leads":
            sheet.sheet_state = "hidden"
    book.save(folder / "report.xlsx")


def crm_html(folder: Path) -> None:
    """A CRM's "Export to Excel": an HTML file saved as .xls, one table per kind under a title,
    US dates and dollars as text, IDs padded with non-breaking spaces, a totals row."""
    parts = ['<html><head><meta charset="utf-8"><title>CRM export</title></head><body>']
    for name, (headers, rows) in TABLES.items():
        parts.append("<table border=1>")
        parts.append(f'<tr><td colspan="{len(headers)}"><b>{name}</b> &ndash; exported 2025-04-01</td></tr>')
        parts.append("<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>")
        for row in rows:
            cells = as_text(name, headers, row, "us", "mdy")
            cells = [c + "\u00a0" if h == "Partner ID" else c for h, c in zip(headers, cells)]
            parts.append("<tr>" + "".join(f"<td>{escape(c).replace(chr(10), '<br>')}</td>" for c in cells) + "</tr>")
        if name == "Sales":
            parts.append(f'<tr><td>Total</td><td colspan="3"></td><td>{money(sum(r[4] for r in rows), "us")}</td><td></td></tr>')
        parts.append("</table>")
    parts.append("</body></html>")
    (folder / "crm-export.xls").write_text("\n".join(parts), encoding="utf-8")
    settings(folder, "MDY")


def spreadsheetml(folder: Path) -> None:
    """Excel 2003 XML saved as .xls: typed Data cells, a merged title row, a hidden sheet."""
    ns = ('xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:o="urn:schemas-microsoft-com:office:office" '
          'xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"')
    out = ['<?xml version="1.0"?>', '<?mso-application progid="Excel.Sheet"?>', f"<Workbook {ns}>"]
    for name, (headers, rows) in TABLES.items():
        out.append(f'<Worksheet ss:Name="{name}"><Table>')
        out.append(f'<Row><Cell ss:MergeAcross="{len(headers) - 1}"><Data ss:Type="String">{name} export</Data></Cell></Row>')
        out.append('<Row ss:Index="3">' + "".join(f'<Cell><Data ss:Type="String">{xml_escape(h)}</Data></Cell>' for h in headers) + "</Row>")
        for row in rows:
            cells = []
            for value in row:
                if value is None:
                    cells.append("<Cell/>")
                elif isinstance(value, date):
                    cells.append(f'<Cell><Data ss:Type="DateTime">{value:%Y-%m-%d}T00:00:00.000</Data></Cell>')
                elif isinstance(value, (int, float)):
                    cells.append(f'<Cell><Data ss:Type="Number">{value}</Data></Cell>')
                else:
                    cells.append(f'<Cell><Data ss:Type="String">{xml_escape(value)}</Data></Cell>')
            out.append("<Row>" + "".join(cells) + "</Row>")
        out.append("</Table>")
        if name == "Rates":
            out.append('<WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel"><Visible>SheetHidden</Visible></WorksheetOptions>')
        out.append("</Worksheet>")
    out.append("</Workbook>")
    (folder / "export.xls").write_text("\n".join(out), encoding="utf-8")


def delimited(folder: Path, suffix: str, encoding: str, delimiter: str, money_style: str,
              date_style: str, order: str | None) -> None:
    """One text file per kind, as Excel or a billing system saves it."""
    for name, (headers, rows) in TABLES.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(headers)
        for row in rows:
            writer.writerow(as_text(name, headers, row, money_style, date_style))
        data = buffer.getvalue().encode(encoding)
        (folder / f"{name.lower()}{suffix}").write_bytes(data)
    settings(folder, order)


SHAPES = {
    "baseline": baseline,
    "one file per kind": one_file_per_kind,
    "xlsx report": xlsx_report,
    "crm html as xls": crm_html,
    "spreadsheetml as xls": spreadsheetml,
    # Excel (US) "CSV": cp1252, commas, m/d/yyyy, $1,234.50 and (1,790.00)
    "csv us": lambda f: delimited(f, ".csv", "cp1252", ",", "us", "mdy", "MDY"),
    # Excel (Germany) "CSV": cp1252, semicolons, dd.mm.yyyy, 1.234,50 and 1.380,00 €
    "csv european": lambda f: delimited(f, ".csv", "cp1252", ";", "eu", "dmy.", "DMY"),
    # Excel "Unicode text": UTF-16 with a BOM, tabs; French: 1 234,50 and trailing minus
    "unicode text": lambda f: delimited(f, ".txt", "utf-16", "\t", "fr", "dmy/", "DMY"),
    # a billing system's TSV: UTF-8 with a BOM, ISO dates with a time, "1234.50 USD"
    "tsv with codes": lambda f: delimited(f, ".tsv", "utf-8-sig", "\t", "code", "iso time", None),
    # a colleague's pipe-delimited file: Swiss apostrophes, named months
    "pipe swiss": lambda f: delimited(f, ".csv", "utf-8", "|", "swiss", "named", None),
}


def build_corpus(folder: Path) -> dict[str, Path]:
    """Write every shape into its own inbox under `folder`; returns shape -> inbox."""
    inboxes = {}
    for shape, write in SHAPES.items():
        inbox = folder / shape.replace(" ", "-")
        inbox.mkdir(parents=True, exist_ok=True)
        write(inbox)
        inboxes[shape] = inbox
    return inboxes


if __name__ == "__main__":
    for shape, path in build_corpus(Path(sys.argv[1])).items():
        print(f"{shape:24} {path}")
