"""A corpus of hostile and broken inbox files (issue 12, SPEC I7, I8), built at test time: no
large binary is committed. Each case is a file (or link) and the problem it must give.

    python tests/hostile/hostile_corpus.py OUTDIR      # writes every case into OUTDIR/

The big cases (a zip bomb that really inflates to gigabytes, 70,000 zip entries, a few hundred
megabytes of one line, a million formatted rows) are made from repeated chunks, so they take
about a second each to write; the tests build them once per session.
"""

from __future__ import annotations

import functools
import io
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import openpyxl
from openpyxl.utils import get_column_letter

SALES_HEADERS = ["Invoice ID", "Partner ID", "Invoice Date", "Product", "Amount", "Currency"]
# A partner of the corpus's own, so the samples' partners' figures stay as they are.
HOSTILE_PARTNER = "H01"
SALE = ["H-1", HOSTILE_PARTNER, date(2025, 2, 3), "Bitrix Site Manager", 250, "USD"]

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
R_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
DTD_BOMB = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">' for i in range(1, 10))
            + "]>\n")
DTD_XXE = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'


@dataclass(frozen=True)
class Case:
    name: str                        # the file's name in the inbox
    problem: str | None              # the problem text it must give; None: read without one
    build: Callable[[Path], None]    # writes the file at the given path
    big: bool = False                # slow to build: built once per session
    accepts: str | None = None       # the invoice ID of the sale it holds, when it must be read


# --- raw workbooks, so that every byte of their XML is ours -----------------------------------

def _cell(ref: str, value: object) -> str:
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = str(value).replace("&", "&amp;").replace("<", "&lt;")
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'




def sheet_xml(rows: list[list[object]], prolog: str = '<?xml version="1.0"?>\n', dimension: str | None = None,
              tail: str = "") -> str:
    """A worksheet's XML: `rows` from A1, dates as ISO text; `tail` is more <row> elements."""
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{get_column_letter(c + 1)}{r}", v.isoformat() if isinstance(v, date) else v)
                        for c, v in enumerate(row) if v is not None)
        body.append(f'<row r="{r}">{cells}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'{prolog}<worksheet {NS}>{dim}<sheetData>{"".join(body)}{tail}</sheetData></worksheet>'


def raw_xlsx(path: Path, sheet: str | bytes, shared: str | None = None, styles: str | None = None) -> None:
    """A minimal workbook of one sheet, "Sales", written part by part."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>' if shared else "")
        + ('<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' if styles else "")
        + "</Types>",
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook {NS} {R_NS}><sheets>'
        '<sheet name="Sales" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        + ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>' if shared else "")
        + ('<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>' if styles else "")
        + "</Relationships>",
        "xl/worksheets/sheet1.xml": sheet,
    }
    if shared:
        parts["xl/sharedStrings.xml"] = shared
    if styles:
        parts["xl/styles.xml"] = styles
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def sale(invoice_id: str) -> list[object]:
    return [invoice_id, *SALE[1:]]


def write_xlsx(path: Path, title: str, rows: list[list[object]]) -> None:
    """A workbook of one sheet; text is text, even where openpyxl would make it a formula."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(r, c, value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
    wb.save(path)


def good_xlsx(path: Path, rows: list[list[object]] | None = None) -> None:
    """An ordinary workbook (openpyxl) with one sale of the corpus's partner."""
    write_xlsx(path, "Sales", [SALES_HEADERS, *([SALE] if rows is None else rows)])


# --- the cases ----------------------------------------------------------------------------------

def not_a_zip(path: Path) -> None:
    path.write_bytes(b"\x00\x13\x37" + bytes(range(256)) * 64)


def zip_not_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("holiday/photo.txt", "not a spreadsheet")


def truncated(path: Path) -> None:
    buffer = io.BytesIO()
    good_xlsx(buffer)  # type: ignore[arg-type]
    data = buffer.getvalue()
    path.write_bytes(data[: len(data) // 2])


def encrypted(path: Path) -> None:
    """An OOXML workbook encrypted with a password (an OLE file holding EncryptedPackage)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO()
    good_xlsx(plain)  # type: ignore[arg-type]
    plain.seek(0)
    with open(path, "wb") as out:
        OOXMLFile(plain).encrypt("secret", out)


@functools.lru_cache(maxsize=1)
def _deflated_zeros(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of `size` zero bytes (a multiple of 1 MiB) and its CRC, made from
    one compressed MiB repeated: full flushes make every MiB compress to the same bytes."""
    chunk = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size >> 20):
        crc = zlib.crc32(chunk, crc)
    return block * (size >> 20) + b"\x03\x00", crc


def _bomb(path: Path, declared: int | None) -> None:
    """A workbook whose sheet inflates to 2 GiB of zeros; `declared` is the size its headers
    state (None: the truth)."""
    size = 2 * 1024**3
    data, crc = _deflated_zeros(size)
    good = io.BytesIO()
    raw_xlsx(good, sheet_xml([SALES_HEADERS]))  # type: ignore[arg-type]
    stated = size if declared is None else declared
    with zipfile.ZipFile(good) as source, open(path, "wb") as out:
        central = []
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                payload, usize, ucrc = data, stated, crc
            else:
                payload = zlib.compress(source.read(info))[2:-4]
                usize, ucrc = info.file_size, info.CRC
            name = info.filename.encode()
            offset = out.tell()
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, ucrc, len(payload), usize,
                                  len(name), 0) + name + payload)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, ucrc,
                                       len(payload), usize, len(name), 0, 0, 0, 0, 0, offset) + name)
        start = out.tell()
        out.write(b"".join(central))
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                              out.tell() - start, start, 0))


def many_entries(path: Path) -> None:
    raw_xlsx(path, sheet_xml([SALES_HEADERS, sale("H-5")]))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as archive:
        for i in range(70_000):
            archive.writestr(f"xl/media/{i}.bin", b"")


def _bomb_sheet(prolog: str) -> str:
    return sheet_xml([SALES_HEADERS, ["H-9", HOSTILE_PARTNER, "2025-02-03", "&lol9;", 1, "USD"]], prolog=prolog) \
        .replace("&amp;lol9;", "&lol9;")


def billion_laughs_sheet(path: Path) -> None:
    raw_xlsx(path, _bomb_sheet(DTD_BOMB))


def xxe_sheet(path: Path) -> None:
    raw_xlsx(path, sheet_xml([SALES_HEADERS, ["H-9", HOSTILE_PARTNER, "2025-02-03", "&xxe;", 1, "USD"]],
                             prolog=DTD_XXE).replace("&amp;xxe;", "&xxe;"))


def xxe_shared_strings(path: Path) -> None:
    sheet = sheet_xml([SALES_HEADERS]).replace(
        "</sheetData>", '<row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData>')
    shared = f'{DTD_XXE}<sst {NS} count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
    raw_xlsx(path, sheet, shared=shared)


def _spreadsheetml(prolog: str, text: str) -> str:
    cells = "".join(f'<Cell><Data ss:Type="String">{h}</Data></Cell>' for h in SALES_HEADERS)
    row = "".join(f'<Cell><Data ss:Type="String">{v}</Data></Cell>'
                  for v in ["H-9", HOSTILE_PARTNER, "2025-02-03", text, "1", "USD"])
    return (f'{prolog}<?mso-application progid="Excel.Sheet"?>\n'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
            'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
            f'<Worksheet ss:Name="Sales"><Table><Row>{cells}</Row><Row>{row}</Row></Table></Worksheet></Workbook>')


def _html(prolog: str, text: str) -> str:
    head = "".join(f"<th>{h}</th>" for h in SALES_HEADERS)
    row = "".join(f"<td>{v}</td>" for v in ["H-9", HOSTILE_PARTNER, "2025-02-03", text, "1", "USD"])
    return f"{prolog}<html><body><table><tr>{head}</tr><tr>{row}</tr></table></body></html>"


def wide(path: Path) -> None:
    """16,384 columns: the sale, then a value in every column to XFD."""
    raw_xlsx(path, sheet_xml([SALES_HEADERS + [f"Extra {i}" for i in range(6, 16_384)],
                              sale("H-2") + list(range(6, 16_384))]))


def formatted_rows(path: Path) -> None:
    """The sale, then a million empty rows that carry a style, as a sheet formatted to its end."""
    styles = (f'<?xml version="1.0"?><styleSheet {NS}><fonts count="1"><font/></fonts>'
              '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
              '<borders count="1"><border/></borders><cellXfs count="2"><xf/><xf fillId="1" applyFill="1"/></cellXfs></styleSheet>')
    tail = "".join(f'<row r="{r}" s="1" customFormat="1"><c r="A{r}" s="1"/></row>' for r in range(3, 1_000_003))
    raw_xlsx(path, sheet_xml([SALES_HEADERS, sale("H-3")], tail=tail), styles=styles)


def lying_dimension(path: Path) -> None:
    """The dimension record says the sheet is the whole grid; it holds two rows."""
    raw_xlsx(path, sheet_xml([SALES_HEADERS, sale("H-4")], dimension="A1:XFD1048576"))


def one_line(path: Path) -> None:
    """A few hundred megabytes of text on one line."""
    chunk = b"a," * (1 << 19)
    with open(path, "wb") as out:
        for _ in range(300):
            out.write(chunk)


def lock_file(path: Path) -> None:
    path.write_bytes(b"\x0bOwner Name" + bytes(150))


def headers_only(path: Path) -> None:
    good_xlsx(path, [])


def outside_link(path: Path) -> None:
    """A link to a workbook outside the inbox (which would otherwise read fine)."""
    target = path.parent.parent / f"outside-{path.parent.name}.xlsx"
    good_xlsx(target, [["H-SECRET", HOSTILE_PARTNER, date(2025, 2, 3), "Secret", 999, "USD"]])
    path.symlink_to(target)


# Input text a spreadsheet would take for a formula or a DDE call, or an xlsx writer for its own
# XML (I8), and IDs that would make paths out of the output folder or share a file (O5).
INJECTIONS = ["=70001+1", "+70002+1", "-70003+1", "@SUM(70004,1)", " \t=70005+1", "\n=70006+1",
              "=cmd|' /C calc70007'!A0", "=HYPERLINK(\"http://example.com/70008\",\"click\")",
              "DDE(\"cmd\";\"/c calc70009\";\"x\")", "<r>Markup & Co 70010</r>"]
MARKER = "700"  # in every injection, and in no formula of the engine's own (checked)
PARTNER_IDS = ["../../escape", "a/b\\c", "CON", "con", "=70011+1", "@x", ".", "..", "\u00e9t\u00e9 \U0001f600",
               "\u00fc1", "\u00e41", "a b", "a_b"]
HEADER_INJECTION = "Evil Ltd\r\nBcc: victim@example.com"  # a name that would add a mail header
PARTNER_HEADERS = ["Partner ID", "Partner Name", "Email", "Territories", "Starting Status", "Opening Points",
                   "Partner Agreement", "NDA"]


def partners(path: Path) -> None:
    """The corpus's partners: H01, and partners whose IDs and names are hostile."""
    rows = [[HOSTILE_PARTNER, HEADER_INJECTION, "h01@example.com", "XX", "Business", 0, "yes", "yes"]]
    for i, pid in enumerate(PARTNER_IDS):
        name = INJECTIONS[i % len(INJECTIONS)]
        rows.append([pid, name, f"p{i}@example.com", "XX", "Business", 0, "yes", "yes"])
    write_xlsx(path, "Partners", [PARTNER_HEADERS, *rows])


LONG_TEXT = "x" * 40_000
CONTROLS = dict.fromkeys(range(32))  # openpyxl refuses them in a cell: the CSV carries them
# (invoice ID, partner, date, product, amount): hostile values, each accepted or rejected (I7)
VALUE_ROWS = [
    ["V-01", HOSTILE_PARTNER, date(2025, 2, 4), "zero", 0],
    ["V-02", HOSTILE_PARTNER, date(2025, 2, 4), "credit note", -120],
    ["V-03", HOSTILE_PARTNER, date(2025, 2, 4), "huge", 1e308],
    ["V-04", HOSTILE_PARTNER, date(2025, 2, 4), "not a number", "NaN"],
    ["V-05", HOSTILE_PARTNER, date(2025, 2, 4), "infinite", "inf"],
    ["V-40", HOSTILE_PARTNER, date(2025, 2, 4), "a formula for an amount", "=70012+1"],
    ["V-06", HOSTILE_PARTNER, date(9999, 12, 31), "far future", 100],
    ["V-07", HOSTILE_PARTNER, "1899-12-31", "before 1900 (a cell cannot hold it as a date)", 100],
    ["V-08", HOSTILE_PARTNER, date(2025, 2, 5), LONG_TEXT, 100],
    ["V-09", HOSTILE_PARTNER, date(2025, 2, 5), "bell\x07 and\x01 escape\x1b", 100],
    *[[f"V-1{i}", HOSTILE_PARTNER, date(2025, 2, 6), text, 10] for i, text in enumerate(INJECTIONS)],
    *[[f"=V-2{i}" if i == 0 else f"V-2{i}", pid, date(2025, 2, 7), "hostile partner", 10]
      for i, pid in enumerate(PARTNER_IDS)],
]


def values(path: Path) -> None:
    """Hostile values as a workbook would carry them (text where a cell cannot hold them)."""
    write_xlsx(path, "Sales", [SALES_HEADERS[:5], *[[v.translate(CONTROLS) if isinstance(v, str) else v
                                                    for v in row] for row in VALUE_ROWS]])


def values_text(path: Path) -> None:
    """What a cell cannot carry, delimited text can: control characters and invalid UTF-8."""
    lines = [",".join(SALES_HEADERS[:5]).encode(),
             f'V-30,{HOSTILE_PARTNER},2025-02-08,"bell\x07 and\x01 escape\x1b",100'.encode(),
             f'V-31,{HOSTILE_PARTNER},2025-02-08,"  =70010+5",100'.encode(),
             f'V-33,{HOSTILE_PARTNER},2025-02-08,{LONG_TEXT},100'.encode(),
             f"V-32,{HOSTILE_PARTNER},2025-02-08,caf".encode() + b"\xe9 \xff\xfe\xed\xa0\x80,100"]
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")

REFUSED_XML = "is refused: its XML declares a DTD or entities"
CASES = [
    Case("partners-hostile.xlsx", None, partners),
    Case("values.xlsx", None, values),
    Case("values-text.csv", None, values_text),
    Case("not-a-zip.xlsx", "is not a readable spreadsheet (the file is damaged or not a workbook)", not_a_zip),
    Case("zip-not-a-workbook.xlsx", "is a zip archive but not a workbook", zip_not_workbook),
    Case("truncated.xlsx", "(the file is damaged or not a workbook): its zip archive is cut short or broken",
         truncated),
    Case("encrypted.xlsx", "is encrypted (password-protected): save an unprotected copy into the inbox", encrypted),
    Case("zip-bomb.xlsx", "xl/worksheets/sheet1.xml would unpack 2,147,483,648 bytes from", lambda p: _bomb(p, None), big=True),
    Case("zip-bomb-lying.xlsx", "unpacks to more than it declares: refused as a zip bomb",
         lambda p: _bomb(p, 2_000), big=True),
    Case("many-entries.xlsx", "holds 70,005 entries (a workbook has tens): refused as a zip bomb", many_entries, big=True),
    Case("billion-laughs.xlsx", REFUSED_XML, billion_laughs_sheet),
    Case("xxe-sheet.xlsx", REFUSED_XML, xxe_sheet),
    Case("xxe-shared-strings.xlsx", REFUSED_XML, xxe_shared_strings),
    Case("billion-laughs-spreadsheetml.xls", REFUSED_XML,
         lambda p: p.write_text(_spreadsheetml(DTD_BOMB, "&lol9;"))),
    Case("xxe-spreadsheetml.xls", REFUSED_XML, lambda p: p.write_text(_spreadsheetml(DTD_XXE, "&xxe;"))),
    Case("billion-laughs-html.xls", REFUSED_XML, lambda p: p.write_text(_html(DTD_BOMB.replace("lolz", "html"), "&lol9;"))),
    Case("xxe-html.xls", REFUSED_XML, lambda p: p.write_text(_html(DTD_XXE.replace("x [", "html ["), "&xxe;"))),
    Case("wide-16384-columns.xlsx", None, wide, accepts="H-2"),
    Case("million-formatted-rows.xlsx", None, formatted_rows, big=True, accepts="H-3"),
    Case("lying-dimension.xlsx", None, lying_dimension, accepts="H-4"),
    Case("one-line.csv", "has a line longer than", one_line, big=True),
    Case("Sales Q1 'ünïcødé' $(touch pwned) & `id`; ü.xlsx", None, good_xlsx, accepts="H-1"),
    Case("~$x.xlsx", None, lock_file),
    Case("empty.xlsx", "is empty (0 bytes)", lambda p: p.write_bytes(b"")),
    Case("headers-only.xlsx", None, headers_only),
    Case("outside-link.xlsx", "is a link to a file outside the inbox: not followed", outside_link),
]
BY_NAME = {case.name: case for case in CASES}


def build(folder: Path, cases: list[Case] = CASES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for case in cases:
        case.build(folder / case.name)
    return folder


if __name__ == "__main__":
    build(Path(sys.argv[1]))
    print(f"{len(CASES)} cases in {sys.argv[1]}", file=sys.stderr)
