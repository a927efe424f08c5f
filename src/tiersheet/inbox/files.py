"""Opening inbox files by what they contain, not by their extension (I1, I8, I9).

A zip is an xlsx, xlsm, xlsb or ods workbook; an OLE container an xls workbook (or an encrypted
one); markup is an HTML table (what CRMs' "Export to Excel" writes, each table a sheet) or Excel
2003 XML (SpreadsheetML); anything else that is text is delimited text. Every file becomes
RawSheets: the rows as the reader gives them, where they start, whether the sheet is hidden, and
a way to ask which of its cells hold spreadsheet errors.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from openpyxl.utils import column_index_from_string, get_column_letter

from ..problems import Problem
from .text import bom_encoding, read_delimited

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".tsv", ".txt"}

# I8: refuse archives that would unpack into far more than any real export.
MAX_UNPACKED_BYTES = 3 * 1024**3
MAX_COMPRESSION_RATIO = 200
MAX_ENTRIES = 10_000  # a workbook holds tens of parts; a zip of many more is not one
MAX_MARKUP_BYTES = 512 * 1024**2  # an HTML or XML "spreadsheet" larger than this is refused
MAX_TEXT_BYTES = 1024**3  # delimited text larger than this is refused before it is read
MAX_LINE_BYTES = 1024**2  # a line of a table is never a mebibyte long (I8: bounded memory)
PROLOG_BYTES = 4096  # where an XML part would declare a DTD (before its first element)
DAMAGED_ZIP = ("is not a readable spreadsheet (the file is damaged or not a workbook): its zip archive is "
               "cut short or broken; save it again from the spreadsheet program")
REFUSED_DTD = ("is refused: its XML declares a DTD or entities, which an export never needs "
               "(save it again from the spreadsheet program)")


@dataclass
class RawSheet:
    file: str
    name: str
    rows: list[list[object]]
    first_row: int = 1   # spreadsheet row number of rows[0]
    first_col: int = 0   # column index (0 = A) of each row's first cell
    hidden: bool = False
    # (row index, column index) into `rows` -> error value; asked only when a read cell is blank,
    # because finding error cells may mean reading the sheet's XML a second time (I6).
    error_cells: Callable[[], dict[tuple[int, int], str]] = field(default=lambda: {}, repr=False)


class Unreadable(Exception):
    """The file cannot be read; the message says why in a user's words."""


def sniff(head: bytes) -> str:
    """What a file holds, from its first bytes: zip, ole, html, spreadsheetml, text or binary."""
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    encoding = bom_encoding(head)
    if encoding is None and b"\x00" in head:
        return "binary"
    text = head.decode(encoding or "latin-1", errors="ignore").lstrip("\ufeff \t\r\n").casefold()
    if text.startswith("<"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in text and "<workbook" in text:
            return "spreadsheetml"
        if re.search(r"<(html|table|body|head|meta|!doctype html)\b", text):
            return "html"
    return "text"


# Starts a computation elsewhere (a thread) and gives back what waits for its result.
Spawn = Callable[..., Callable[[], dict]]


def read_file(path: Path, display: str, csv_encoding: str | None = None,
              csv_delimiter: str | None = None, spawn: Spawn | None = None) -> list[RawSheet]:
    """The sheets of one file, read by its content; Unreadable (or any reader error) otherwise.
    With `spawn`, an xlsx file's error cells are looked for while its sheets are parsed (see
    read_workbook)."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if not head:
        raise Unreadable("is empty (0 bytes): export it again")
    shape = sniff(head)
    if shape == "zip":
        refusal = check_archive(path)
        if refusal:
            raise Unreadable(refusal)
        return read_workbook(path, display, spawn)
    if shape == "ole":
        if is_encrypted(path):
            raise Unreadable("is encrypted (password-protected): save an unprotected copy into the inbox")
        return read_workbook(path, display)
    if shape == "binary":
        raise Unreadable("is not a readable spreadsheet (the file is damaged or not a workbook)")
    size = path.stat().st_size
    if size > MAX_MARKUP_BYTES and shape in ("html", "spreadsheetml"):
        raise Unreadable(f"is larger than {MAX_MARKUP_BYTES // 1024**2} MiB of markup: refused as too large")
    if shape == "html" and b"<!entity" in head.lower():  # I8: lxml keeps entities unexpanded,
        raise Unreadable(REFUSED_DTD)                        # but no export declares them
    if shape == "text":
        if size > MAX_TEXT_BYTES:
            raise Unreadable(f"is larger than {MAX_TEXT_BYTES // 1024**2} MiB of text: refused as too large")
        if longest_line_over(path, MAX_LINE_BYTES):
            raise Unreadable(f"has a line longer than {MAX_LINE_BYTES // 1024**2} MiB: it is not a table "
                             "(refused unread)")
    if shape == "html":
        from .markup import read_html
        return read_html(path.read_bytes(), display)
    if shape == "spreadsheetml":
        from .markup import read_spreadsheetml
        return read_spreadsheetml(path, display)
    return read_csv(path, display, csv_encoding, csv_delimiter)


def read_csv(path: Path, display: str, encoding: str | None = None,
             delimiter: str | None = None) -> list[RawSheet]:
    """A delimited text file as one sheet named after the file (I9)."""
    rows = read_delimited(path.read_bytes(), encoding, delimiter)
    return [RawSheet(display, PurePosixPath(display).stem, rows, 1)]


def longest_line_over(path: Path, limit: int) -> bool:
    """Whether a line of the file is longer than `limit` bytes, read a chunk at a time (I8)."""
    run = 0  # bytes since the last line break
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            first = min((i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0), default=-1)
            if first < 0:
                run += len(chunk)
                if run > limit:
                    return True
                continue
            last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
            if run + first > limit or max(map(len, chunk[first:last].splitlines()), default=0) > limit:
                return True
            run = len(chunk) - last - 1
    return run > limit


def zip_entries(path: Path) -> int | None:
    """The number of entries a zip's end record declares, read before the central directory
    itself (which for a million entries would take a gigabyte to list); None if there is none."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 65_557))
        tail = handle.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) < at + 22:
            return None
        count = struct.unpack_from("<H", tail, at + 10)[0]
        locator = at - 20
        if count == 0xFFFF and locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07":
            handle.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
            record = handle.read(56)
            if record[:4] == b"PK\x06\x06":
                count = struct.unpack_from("<Q", record, 32)[0]
        return count


def check_archive(path: Path) -> str | None:
    """Refuse zip bombs, zips that are not workbooks and XML that declares a DTD, before any
    part is inflated beyond its first few kilobytes (I8); None when the file looks sane. The
    sizes a zip declares are what the reader (calamine) holds it to: more is an error there."""
    entries = zip_entries(path)
    if entries is None:
        return DAMAGED_ZIP
    if entries > MAX_ENTRIES:
        return f"holds {entries:,} entries (a workbook has tens): refused as a zip bomb"
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            total = 0
            for info in infos:
                total += info.file_size
                if info.file_size > 50 * 1024**2 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                    return f"{info.filename} would unpack {info.file_size:,} bytes from {info.compress_size:,}: refused as a zip bomb"
            if total > MAX_UNPACKED_BYTES:
                return f"would unpack to {total:,} bytes: refused as too large"
            names = {info.filename for info in infos}
            if not names & {"xl/workbook.xml", "xl/workbook.bin", "content.xml"}:
                return "is a zip archive but not a workbook (it holds no xl/workbook.xml or content.xml)"
            for info in infos:
                if info.filename.endswith((".xml", ".rels")) and _declares_dtd(archive, info):
                    return REFUSED_DTD
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
        if "larger than" in str(exc) or "Bad CRC" in str(exc):
            return "unpacks to more than it declares: refused as a zip bomb"
        return DAMAGED_ZIP
    return None


def _declares_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether an XML part opens with a DTD (the only place one may stand): its first bytes."""
    with archive.open(info) as stream:
        head = stream.read(PROLOG_BYTES)
    return b"<!DOCTYPE" in head or b"<!ENTITY" in head


def is_encrypted(path: Path) -> bool:
    """An OLE file that holds an encrypted workbook: EncryptionInfo/EncryptedPackage streams
    (OOXML with a password) or an encrypted xls, as msoffcrypto-tool recognises them (I8)."""
    import msoffcrypto

    try:
        with open(path, "rb") as handle:
            return bool(msoffcrypto.OfficeFile(handle).is_encrypted())
    except Exception:  # not a document it knows: the reader will say what it is
        return False


def _calamine_format(path: Path) -> str | None:
    """The extension calamine needs for this content, when the file's own does not say it."""
    suffix = path.suffix.casefold()
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return None if suffix == ".xls" else ".xls"  # OLE: an xls workbook (or an encrypted file)
    if "xl/workbook.bin" in names:
        wanted = {".xlsb"}
    elif "xl/workbook.xml" in names:
        wanted = {".xlsx", ".xlsm"}
    elif "content.xml" in names:
        wanted = {".ods"}
    else:
        return None
    return None if suffix in wanted else sorted(wanted)[0]


def read_workbook(path: Path, display: str, spawn: Spawn | None = None) -> list[RawSheet]:
    """Every worksheet of a binary workbook through python-calamine (hidden ones too: I1);
    merged cells read as the value they show (their top-left cell's).

    An xlsx sheet's error cells are found in its XML when first asked for; with `spawn` they
    are looked for in another thread as the sheet is parsed (python-calamine parses without
    the GIL): a million-row sheet's XML takes a second to scan, which is then not waited for."""
    import python_calamine

    other = _calamine_format(path)
    if other is None:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    else:
        with open(path, "rb") as handle:
            workbook = python_calamine.CalamineWorkbook.from_filelike(handle)
    xlsx = zipfile.is_zipfile(path) and (other or path.suffix.casefold()) in (".xlsx", ".xlsm")
    sheets = []
    try:
        for index, meta in enumerate(workbook.sheets_metadata):
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue  # chart sheets and the like hold no rows
            scanned = spawn(xlsx_error_cells, path, meta.name, 0, 0) if xlsx and spawn else None
            sheet = workbook.get_sheet_by_index(index)
            rows = sheet.to_python(skip_empty_area=True)
            first_row, first_col = sheet.start if sheet.start else (0, 0)
            fill_merged(rows, sheet.merged_cell_ranges or (), first_row, first_col)
            raw = RawSheet(display, meta.name, rows, first_row + 1, first_col,
                           hidden=meta.visible != python_calamine.SheetVisibleEnum.Visible)
            if scanned:
                raw.error_cells = _lazy(lambda found=scanned, r=first_row, c=first_col:
                                        {(row - r, col - c): value for (row, col), value in found().items()})
            elif xlsx:
                raw.error_cells = _lazy(lambda name=meta.name, r=first_row, c=first_col:
                                        xlsx_error_cells(path, name, r, c))
            sheets.append(raw)
    finally:
        workbook.close()
    return sheets


def fill_merged(rows: list[list[object]], ranges, first_row: int, first_col: int) -> None:
    """Give every cell of a merged range its top-left cell's value (what the sheet shows)."""
    for (top, left), (bottom, right) in ranges:
        top, bottom, left, right = top - first_row, bottom - first_row, left - first_col, right - first_col
        if not (0 <= top < len(rows) and 0 <= left < len(rows[top])):
            continue
        value = rows[top][left]
        for r in range(top, min(bottom, len(rows) - 1) + 1):
            row = rows[r]
            for c in range(max(left, 0), right + 1):
                if c < len(row):
                    row[c] = value


def _lazy(compute: Callable[[], dict]) -> Callable[[], dict]:
    cache: list[dict] = []

    def get() -> dict:
        if not cache:
            cache.append(compute())
        return cache[0]
    return get


_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def xlsx_error_cells(path: Path, sheet_name: str, first_row: int, first_col: int) -> dict[tuple[int, int], str]:
    """Cells of one xlsx worksheet that hold an error value (`t="e"`), by (row, column) index
    into the rows calamine gave (python-calamine reads them as empty text). The sheet's XML is
    scanned for the marker first and parsed, safely and streaming, only when it is there."""
    from defusedxml.ElementTree import fromstring, iterparse

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    with zipfile.ZipFile(path) as archive:
        book = fromstring(archive.read("xl/workbook.xml"), forbid_dtd=True)
        rels = fromstring(archive.read("xl/_rels/workbook.xml.rels"), forbid_dtd=True)
        rel_id = next((s.get(f"{{{ns['r']}}}id") for s in book.iterfind("m:sheets/m:sheet", ns)
                       if s.get("name") == sheet_name), None)
        target = next((r.get("Target") for r in rels if r.get("Id") == rel_id), None)
        if target is None:
            return {}
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if not _holds_errors(archive, member):
            return {}
        found = {}
        with archive.open(member) as stream:
            for _, element in iterparse(stream, forbid_dtd=True):
                if element.tag == f"{{{ns['m']}}}c":
                    if element.get("t") == "e":
                        match = _CELL_REF.fullmatch(element.get("r", ""))
                        value = element.findtext("m:v", "", ns) or "#N/A"
                        if match:
                            found[(int(match[2]) - 1 - first_row, column_index_from_string(match[1]) - 1 - first_col)] = value
                    element.clear()
        return found


_ERROR_TYPE = re.compile(rb"""t=(?:"e"|'e')""")  # an error cell's type attribute


def _holds_errors(archive: zipfile.ZipFile, member: str) -> bool:
    """Whether a sheet's XML marks a cell as an error: one pass of one pattern over each chunk
    (a million rows are 400 MB of XML)."""
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 22):
            if _ERROR_TYPE.search(tail + chunk):
                return True
            tail = chunk[-6:]
    return False


def column_letter(index: int) -> str:
    """The letters of a 0-based column index (0 -> A)."""
    return get_column_letter(index + 1)


def inbox_files(folder: Path) -> list[Path]:
    """Files of the inbox, in path order (the order 'later file wins' uses)."""
    files = []
    for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
        if not path.is_file() or path.name.startswith(("~$", ".")):
            continue
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        files.append(path)
    return files


def unreadable(display: str, exc: Exception) -> Problem:
    """A file that cannot be read is a problem with this file, not the run (I7)."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    name = type(exc).__name__
    if isinstance(exc, Unreadable):
        why = message
    elif type(exc).__module__.startswith("defusedxml") or "unrecognized entity" in message:
        why = REFUSED_DTD  # I8: DTDs and entities are refused (calamine never expands them)
    elif "larger than its declared" in message:  # calamine holds a part to its declared size
        why = "unpacks to more than it declares: refused as a zip bomb"
    elif isinstance(exc, UnicodeDecodeError):
        why = (f"is not text in {exc.encoding} (byte {exc.start + 1}); correct [csv] encoding in "
               "tiersheet.toml or remove it to let tiersheet detect the encoding")
    elif "Password" in name or "encrypt" in message.casefold() or "password" in message.casefold():
        why = "is encrypted (password-protected): save an unprotected copy into the inbox"
    else:  # the reader's own words ("Could not find EOCD") would tell a user nothing
        why = "is not a readable spreadsheet (the file is damaged or not a workbook)"
    return Problem(display, "", None, "", "", why, "file skipped")
