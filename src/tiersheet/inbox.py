"""Read the inbox: find the sheets, recognise their kind, type every row, and account for it.

Every non-empty data row ends in exactly one place: an accepted frame, a rejection (a Problem),
or a duplicate (SPEC I7). Reconciliation counts are taken from those places, not assumed.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from .config import Rules, read_toml
from .errors import UsageProblem
from .rules import excel_round
from .problems import DUPLICATE, ERROR, NOTE, NOTED, WARNING, Problem

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv"}
MAPPING_FILE = "tiersheet.toml"

# I8: refuse archives that would unpack into far more than any real export.
MAX_UNPACKED_BYTES = 3 * 1024**3
MAX_COMPRESSION_RATIO = 200


class InboxError(UsageProblem):
    """The inbox as a whole cannot be read (missing folder, bad tiersheet.toml)."""


# --- the input contract (I2-I6) ------------------------------------------------------------

FIELDS: dict[str, list[str]] = {
    "partners": ["partner_id", "partner_name", "email", "territories", "joined_on",
                 "starting_status", "opening_points", "certificate_issued_on", "as_of",
                 "partner_agreement", "nda", "certified_engineers",
                 "certified_sales_specialists", "first_line_support", "logo_on_website",
                 "product_descriptions_on_website", "sales_commitment_usd",
                 "forecast_submitted", "prior_intranet_sale", "nfr_issued"],
    "sales": ["invoice_id", "partner_id", "invoice_date", "product", "edition", "sale_type",
              "amount_usd", "amount", "currency"],
    "activities": ["activity_id", "partner_id", "date", "activity", "approved_on",
                   "description"],
    "leads": ["lead_id", "received_on", "territory", "company", "contact"],
    "claims": ["claim_id", "partner_id", "date", "expense_usd", "requested_usd", "description"],
    "rates": ["currency", "month", "usd_rate"],
}
REQUIRED: dict[str, list[str]] = {
    "partners": ["partner_id", "partner_name"],
    "sales": ["invoice_id", "partner_id", "invoice_date"],  # and amount_usd or amount
    "activities": ["activity_id", "partner_id", "date", "activity"],
    "leads": ["lead_id", "received_on", "territory"],
    "claims": ["claim_id", "partner_id", "date", "expense_usd"],
    "rates": ["currency", "month", "usd_rate"],
}
KEYS = {"partners": ["partner_id", "as_of"], "sales": ["invoice_id"],
        "activities": ["activity_id"], "leads": ["lead_id"], "claims": ["claim_id"],
        "rates": ["currency", "month"]}
KIND_LABELS = {"partners": "partners", "sales": "sales", "activities": "activities",
               "leads": "leads", "claims": "co-op claims", "rates": "rates"}
PROVENANCE = ["source_file", "source_sheet", "source_row"]
# Spellings of our columns that exports commonly use (normalised); tiersheet.toml adds more.
HEADER_ALIASES = {"1stlinesupport": "first_line_support", "nondisclosureagreement": "nda",
                  "electronicpartneragreement": "partner_agreement"}
REQUIREMENT_FIELDS = {"partner_agreement", "nda", "certified_engineers",
                      "certified_sales_specialists", "first_line_support", "logo_on_website",
                      "product_descriptions_on_website", "sales_commitment_usd",
                      "forecast_submitted"}


def normalise_header(text: object) -> str:
    """'Partner ID', 'partner_id' and 'PARTNER-ID' all become 'partnerid' (I1)."""
    return re.sub(r"[\W_]+", "", str(text).casefold())


def detect_kind(fields: set[str]) -> str | None:
    """A sheet's kind from the canonical fields in its header row (I1)."""
    for key, kind in (("invoice_id", "sales"), ("activity_id", "activities"),
                      ("lead_id", "leads"), ("claim_id", "claims")):
        if key in fields:
            return kind
    if {"currency", "usd_rate"} <= fields:
        return "rates"
    if {"partner_id", "partner_name"} <= fields:
        return "partners"
    return None


# --- cell parsers: value -> typed value, or raise CellError(message) -------------------------

class CellError(ValueError):
    pass


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and value != value)


def show(value: object) -> str:
    """A cell as text for problem reports."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != datetime.min.time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_text(value: object) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return show(value)
    return str(value).strip()


_MONEY = re.compile(r"^\(?\s*([+-]?)\s*(?:US\$|USD|\$)?\s*([+-]?)\s*([0-9][0-9,' ]*(?:\.[0-9]*)?|\.[0-9]+)\s*(?:USD)?\s*\)?$",
                    re.IGNORECASE)


def parse_number(value: object) -> float:
    """Numbers, and text such as '$1,234.50', '(120.00)' or '-$75' (I6)."""
    if isinstance(value, bool):
        raise CellError("is true/false, not an amount")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise CellError("is not a finite number")
        return float(value)
    if isinstance(value, (date, datetime)):
        raise CellError("is a date, not an amount")
    text = str(value).strip().replace("\u2212", "-").replace("\u00a0", " ")
    match = _MONEY.match(text)
    if not match:
        raise CellError("is not a number")
    sign1, sign2, digits = match.groups()
    digits = digits.replace(",", "").replace("'", "").replace(" ", "")
    if digits.endswith("."):
        digits = digits[:-1]
    number = float(digits)
    negative = (sign1 == "-") ^ (sign2 == "-") ^ (text.startswith("(") and text.endswith(")"))
    return -number if negative else number


def parse_date(value: object) -> date:
    """Real spreadsheet dates, or ISO text YYYY-MM-DD (I6)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise CellError("is a number, not a date (use a date cell or YYYY-MM-DD)")
    text = str(value).strip()
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$", text)
    if not match:
        raise CellError("is not a date (use a date cell or YYYY-MM-DD)")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise CellError("is not a real date") from None


def parse_month(value: object) -> date:
    """A month as a date in it, 'YYYY-MM' or 'YYYY-MM-DD'; returned as its first day."""
    if isinstance(value, str) and re.match(r"^\s*\d{4}-\d{2}\s*$", value):
        value = value.strip() + "-01"
    return parse_date(value).replace(day=1)


_YES = {"yes", "y", "true", "1", "x", "+", "1.0"}
_NO = {"no", "n", "false", "0", "", "-", "0.0"}


def parse_yes(value: object) -> bool:
    """Yes/no cells: yes/no, y/n, true/false, 1/0, x, +, and blank (= no) (I2)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if value in (0, 1):
            return bool(value)
        raise CellError("is not yes or no")
    text = str(value).strip().casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError("is not yes or no")


def parse_count(value: object) -> int:
    if is_blank(value):
        return 0
    number = parse_number(value)
    if number < 0 or not float(number).is_integer():
        raise CellError("is not a whole number of 0 or more")
    return int(number)


def parse_list(value: object) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(r"[,;]", parse_text(value)) if part.strip())


def level_parser(rules: Rules) -> Callable[[object], str]:
    """Level names: the full name or its first word, in any case (Status names)."""
    names: dict[str, str] = {}
    for level in rules.levels:
        names[" ".join(level.name.split()).casefold()] = level.name
        names[level.name.split()[0].casefold()] = level.name

    def parse(value: object) -> str:
        text = " ".join(parse_text(value).split()).casefold()
        if text in names:
            return names[text]
        raise CellError("is not a level name (" + ", ".join(lv.name for lv in rules.levels) + ")")
    return parse


def activity_parser(rules: Rules) -> Callable[[object], str]:
    """An activity type by its key, label or alias; else a unique part of one label (R5, I4)."""
    def singular(text: str) -> str:
        return text[:-1] if text.endswith("s") else text

    exact: dict[str, str] = {}
    for activity in rules.activities:
        for name in (activity.key, activity.label, *activity.aliases):
            exact[singular(normalise_header(name))] = activity.key

    def parse(value: object) -> str:
        text = singular(normalise_header(parse_text(value)))
        if not text:
            raise CellError("is empty")
        if text in exact:
            return exact[text]
        hits = {a.key for a in rules.activities
                if len(text) >= 4 and text in singular(normalise_header(a.label))}
        if len(hits) == 1:
            return hits.pop()
        raise CellError("is not a known activity type (" + ", ".join(a.key for a in rules.activities) + ")")
    return parse


def sale_type_parser(value: object) -> str:
    text = parse_text(value).casefold()
    if text in ("", "licence", "license", "licences", "licenses", "new", "new licence"):
        return "licence"
    if text in ("renewal", "renewals", "renew"):
        return "renewal"
    raise CellError("is not a sale type (licence or renewal)")


# --- reading files --------------------------------------------------------------------------

@dataclass
class RawSheet:
    file: str
    name: str
    rows: list[list[object]]
    first_row: int  # spreadsheet row number of rows[0]


@dataclass
class SheetReport:
    """One row of the Reconciliation sheet (O3)."""
    file: str
    sheet: str
    kind: str
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # field -> header as written

    def header(self, name: str) -> str:
        return self.headers.get(name, name)


@dataclass
class Inbox:
    """What the inbox holds after reading and settling: typed frames, problems, accounting."""
    frames: dict[str, pd.DataFrame]
    problems: list[Problem] = field(default_factory=list)
    reports: list[SheetReport] = field(default_factory=list)

    @property
    def partners(self) -> pd.DataFrame:
        return self.frames["partners"]

    @property
    def sales(self) -> pd.DataFrame:
        return self.frames["sales"]

    @property
    def activities(self) -> pd.DataFrame:
        return self.frames["activities"]

    @property
    def leads(self) -> pd.DataFrame:
        return self.frames["leads"]

    @property
    def claims(self) -> pd.DataFrame:
        return self.frames["claims"]


def load_mapping(folder: Path) -> dict[str, str]:
    """Optional tiersheet.toml: [headers] "Their header" = "our_field" (I1)."""
    path = folder / MAPPING_FILE
    if not path.exists():
        return {}
    try:
        raw = read_toml(path)
    except ValueError as exc:
        raise InboxError(f"header mapping {exc}") from None
    known = {f for fields in FIELDS.values() for f in fields}
    for key in raw:
        if key != "headers":
            raise InboxError(f"{path}: unknown key '{key}' (expected a [headers] table)")
    headers = raw.get("headers", {})
    if not isinstance(headers, dict):
        raise InboxError(f"{path}: key 'headers' must be a table")
    mapping = {}
    for theirs, ours in headers.items():
        if not isinstance(ours, str) or ours not in known:
            raise InboxError(f"{path}: key 'headers.{theirs}' must name one of our columns, not {ours!r}")
        mapping[normalise_header(theirs)] = ours
    return mapping


def check_archive(path: Path) -> str | None:
    """Refuse zip bombs before any XML is parsed (I8); None when the file looks sane."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size
                if info.file_size > 50 * 1024**2 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                    return f"{info.filename} would unpack {info.file_size:,} bytes from {info.compress_size:,}: refused as a zip bomb"
            if total > MAX_UNPACKED_BYTES:
                return f"would unpack to {total:,} bytes: refused as too large"
    except zipfile.BadZipFile:
        return None  # not a zip; the reader will say what it is
    return None


def read_csv(path: Path, display: str) -> list[RawSheet]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [list(row) for row in csv.reader(io.StringIO(text), dialect)]
    return [RawSheet(display, path.stem, rows, 1)]


def read_workbook(path: Path, display: str) -> list[RawSheet]:
    import python_calamine

    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    sheets = []
    try:
        for index, meta in enumerate(workbook.sheets_metadata):
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue  # chart sheets and the like hold no rows
            sheet = workbook.get_sheet_by_index(index)
            rows = sheet.to_python(skip_empty_area=True)
            first_row = (sheet.start[0] + 1) if sheet.start else 1
            sheets.append(RawSheet(display, meta.name, rows, first_row))
    finally:
        workbook.close()
    return sheets


def read_file(path: Path, display: str) -> tuple[list[RawSheet], Problem | None]:
    """A file's sheets, or a Problem saying why it cannot be read."""
    suffix = path.suffix.casefold()
    try:
        if suffix == ".csv":
            return read_csv(path, display), None
        if suffix in (".xlsx", ".xlsm", ".ods", ".xlsb"):
            refusal = check_archive(path)
            if refusal:
                return [], Problem(display, "", None, "", "", refusal, "file skipped")
        return read_workbook(path, display), None
    except Exception as exc:  # any reader failure is a problem with this file, not the run
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        name = type(exc).__name__
        if "Password" in name or "encrypt" in message.casefold() or "password" in message.casefold():
            why = "is encrypted (password-protected): save an unprotected copy into the inbox"
        else:  # the reader's own words ("Could not find EOCD") would tell a user nothing
            why = "is not a readable spreadsheet (the file is damaged or not a workbook)"
        return [], Problem(display, "", None, "", "", why, "file skipped")


def inbox_files(folder: Path) -> list[Path]:
    """Spreadsheet files of the inbox, in path order (the order 'later file wins' uses)."""
    files = []
    for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
        if not path.is_file() or path.name.startswith(("~$", ".")):
            continue
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        files.append(path)
    return files


# --- typing rows ----------------------------------------------------------------------------

def field_parsers(kind: str, rules: Rules) -> dict[str, Callable[[object], object]]:
    level = level_parser(rules)
    money = parse_number
    common = {"partner_id": parse_text}
    parsers: dict[str, dict[str, Callable[[object], object]]] = {
        "partners": {
            "partner_name": parse_text, "email": parse_text, "territories": parse_list,
            "joined_on": parse_date, "starting_status": level, "opening_points": parse_count,
            "certificate_issued_on": parse_date, "as_of": parse_date,
            "partner_agreement": parse_yes, "nda": parse_yes,
            "certified_engineers": parse_count, "certified_sales_specialists": parse_count,
            "first_line_support": parse_yes, "logo_on_website": parse_yes,
            "product_descriptions_on_website": parse_yes, "sales_commitment_usd": money,
            "forecast_submitted": parse_yes, "prior_intranet_sale": parse_yes,
            "nfr_issued": parse_list},
        "sales": {"invoice_id": parse_text, "invoice_date": parse_date, "product": parse_text,
                  "edition": parse_text, "sale_type": sale_type_parser, "amount_usd": money,
                  "amount": money, "currency": lambda v: parse_text(v).upper()},
        "activities": {"activity_id": parse_text, "date": parse_date,
                       "activity": activity_parser(rules), "approved_on": parse_date,
                       "description": parse_text},
        "leads": {"lead_id": parse_text, "received_on": parse_date,
                  "territory": lambda v: parse_text(v).upper(), "company": parse_text,
                  "contact": parse_text},
        "claims": {"claim_id": parse_text, "date": parse_date, "expense_usd": money,
                   "requested_usd": money, "description": parse_text},
        "rates": {"currency": lambda v: parse_text(v).upper(), "month": parse_month,
                  "usd_rate": money},
    }
    result = dict(parsers[kind])
    if "partner_id" in FIELDS[kind]:
        result.update(common)
    return result


# Blank optional cells take these values without a parser; blank required cells are errors.
BLANK = {"territories": (), "nfr_issued": (), "opening_points": 0, "certified_engineers": 0,
         "certified_sales_specialists": 0, "sale_type": "licence", "currency": "",
         "partner_agreement": False, "nda": False, "first_line_support": False,
         "logo_on_website": False, "product_descriptions_on_website": False,
         "forecast_submitted": False, "prior_intranet_sale": False}


def check_value(kind: str, name: str, value: object, rules: Rules) -> str | None:
    """Range checks on typed values: negative or absurd amounts (I7)."""
    if value is None:
        return None
    if name in ("amount_usd", "amount") and abs(value) > rules.max_amount_usd:
        return f"is beyond the limit of {rules.max_amount_usd:,.0f} (limits.max_amount_usd)"
    if name in ("expense_usd", "requested_usd", "sales_commitment_usd") and value < 0:
        return "is negative"
    if name in ("expense_usd", "requested_usd", "sales_commitment_usd") and value > rules.max_amount_usd:
        return f"is beyond the limit of {rules.max_amount_usd:,.0f} (limits.max_amount_usd)"
    if name == "usd_rate" and value <= 0:
        return "is not a positive exchange rate"
    if name == "opening_points" and value > 10_000_000:
        return "is absurdly large"
    if isinstance(value, date) and not _PLAUSIBLE[0] <= value <= _PLAUSIBLE[1]:
        return "is not a plausible date (before 1990 or after 2099)"
    return None


class SheetReader:
    """Turns one raw sheet into typed records, problems and a reconciliation row."""

    def __init__(self, rules: Rules, mapping: dict[str, str]):
        self.rules = rules
        self.mapping = mapping
        self._parsers = {kind: field_parsers(kind, rules) for kind in FIELDS}
        self.rejected_partners: dict[str, str] = {}  # partner_id -> where its row was rejected

    def header_fields(self, header: list[object]) -> dict[str, tuple[int, str]]:
        """canonical field -> (column index, header text as written)."""
        known = {normalise_header(f): f for fields in FIELDS.values() for f in fields} | HEADER_ALIASES
        found: dict[str, tuple[int, str]] = {}
        for index, cell in enumerate(header):
            if is_blank(cell):
                continue
            key = normalise_header(cell)
            name = self.mapping.get(key) or known.get(key)
            if name and name not in found:
                found[name] = (index, str(cell).strip())
        return found

    def read(self, sheet: RawSheet) -> tuple[str | None, list[dict], list[Problem], SheetReport]:
        rows = sheet.rows
        start = 0
        while start < len(rows) and all(is_blank(c) for c in rows[start]):
            start += 1
        if start == len(rows):
            return None, [], [], SheetReport(sheet.file, sheet.name, "ignored (empty)")
        header_row = sheet.first_row + start
        columns = self.header_fields(rows[start])
        kind = detect_kind(set(columns))
        data = [(sheet.first_row + start + 1 + i, row) for i, row in enumerate(rows[start + 1:])
                if not all(is_blank(c) for c in row)]
        if kind is None:
            report = SheetReport(sheet.file, sheet.name, "ignored (not an input sheet)")
            return None, [], [], report
        report = SheetReport(sheet.file, sheet.name, KIND_LABELS[kind], rows_read=len(data),
                             headers={name: header for name, (_, header) in columns.items()})
        missing = [f for f in REQUIRED[kind] if f not in columns]
        if kind == "sales" and "amount_usd" not in columns and "amount" not in columns:
            missing.append("amount_usd")
        if missing:
            report.rejected = len(data)
            problem = Problem(sheet.file, sheet.name, header_row, ", ".join(missing), "",
                              f"missing required column {', '.join(missing)} in a {KIND_LABELS[kind]} sheet",
                              f"whole sheet rejected ({len(data)} rows)")
            return kind, [], [problem], report

        required = set(REQUIRED[kind])
        if kind == "sales":
            required |= {"amount_usd"} if "amount" not in columns else set()
        # Type column by column (a million rows: the loop per cell is all there is), collecting
        # each row's errors; then assemble the rows that have none.
        errors: dict[int, list[Problem]] = {}
        warnings: dict[int, list[Problem]] = {}
        names = [name for name in FIELDS[kind]]
        typed: list[list] = []
        for name in names:
            if name not in columns:
                typed.append([BLANK.get(name)] * len(data))
                continue
            index, header = columns[name]
            typed.append(self._column(kind, name, index, header, sheet, data, name in required,
                                      errors, warnings))
        extra = []
        if kind == "activities":
            index = columns["activity"][0]
            extra = [("activity_text", [parse_text(row[index] if index < len(row) else None) for _, row in data])]
        if kind == "sales":
            usd, amount = typed[names.index("amount_usd")], typed[names.index("amount")]
            header = columns.get("amount_usd", columns.get("amount", (0, "Amount USD")))[1]
            for i, (row_number, _) in enumerate(data):
                if i not in errors and usd[i] is None and amount[i] is None:
                    errors[i] = [Problem(sheet.file, sheet.name, row_number, header, "",
                                         "is empty but required", "row rejected")]
        keys = names + PROVENANCE + [key for key, _ in extra]
        records, problems = [], []
        provenance = ([sheet.file] * len(data), [sheet.name] * len(data), [number for number, _ in data])
        for i, values in enumerate(zip(*typed, *provenance, *(column for _, column in extra))):
            if i in errors:
                problems.extend(errors[i])
                report.rejected += 1
                if kind == "partners" and "partner_id" in columns:
                    pid = values[0]
                    if pid:
                        self.rejected_partners.setdefault(pid, f"{sheet.file} [{sheet.name}] row {data[i][0]}")
                continue
            problems.extend(warnings.get(i, ()))
            records.append(dict(zip(keys, values)))
        problems.sort(key=lambda p: p.row or 0)
        return kind, records, problems, report

    def _column(self, kind: str, name: str, index: int, header: str, sheet: RawSheet,
                data: list, required: bool, errors: dict, warnings: dict) -> list:
        """One column's typed values; bad cells become errors (or warnings) of their rows."""
        parser = self._parsers[kind][name]
        blank = BLANK.get(name, "" if parser is parse_text else None)
        lenient = kind == "partners" and name in REQUIREMENT_FIELDS  # I7: warn, count as not met
        out = []
        append = out.append
        for i, (row_number, row) in enumerate(data):
            value = row[index] if index < len(row) else None
            kind_of = type(value)
            # fast paths for what spreadsheets usually hold
            if value is None:
                pass
            elif kind_of is str:
                if parser is parse_text:
                    text = value.strip()
                    if text:
                        append(text)
                        continue
                elif not value.strip():
                    value = None
            elif kind_of is date and parser is parse_date:
                if _PLAUSIBLE[0] <= value <= _PLAUSIBLE[1]:
                    append(value)
                    continue
            elif kind_of is float and parser is parse_number and value == value and name in _FREE_AMOUNTS:
                if abs(value) <= self.rules.max_amount_usd:
                    append(value)
                    continue
            if value is None or is_blank(value):
                if required:
                    errors.setdefault(i, []).append(Problem(sheet.file, sheet.name, row_number, header, "",
                                                            "is empty but required", "row rejected"))
                append(blank)
                continue
            try:
                result = parser(value)
                trouble = check_value(kind, name, result, self.rules)
                if trouble:
                    raise CellError(trouble)
            except CellError as exc:
                if lenient:
                    warnings.setdefault(i, []).append(Problem(sheet.file, sheet.name, row_number, header,
                                                              show(value), str(exc), "counted as not met", WARNING))
                    append(BLANK.get(name, None))
                else:
                    errors.setdefault(i, []).append(Problem(sheet.file, sheet.name, row_number, header,
                                                            show(value), str(exc), "row rejected"))
                    append(None)
                continue
            append(result)
        return out


_PLAUSIBLE = (date(1990, 1, 1), date(2099, 12, 31))
_FREE_AMOUNTS = {"amount_usd", "amount"}  # may be negative (credit notes); only the limit applies


# --- settling: duplicates, currencies, references ---------------------------------------------

def content(record: dict) -> tuple:
    return tuple((k, record[k]) for k in record if k not in PROVENANCE)


def where(record: dict) -> str:
    return f"{record['source_file']} [{record['source_sheet']}] row {record['source_row']}"


def drop_duplicates(kind: str, records: list[dict], reports: dict, problems: list[Problem]) -> list[dict]:
    """Same key twice: same content is counted once; different content, the later wins (I7)."""
    key_fields = KEYS[kind]
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for record in records:
        groups[tuple(record[k] for k in key_fields)].append(record)
    kept = []
    for key, group in groups.items():
        if len(group) == 1:
            kept.append(group[0])
            continue
        winner_content = content(group[-1])
        winner = next(r for r in group if content(r) == winner_content)
        kept.append(winner)
        label = " / ".join(show(k) for k in key if k not in ("", None)) or "(blank)"
        conflicted = False
        for record in group:
            if record is winner:
                continue
            report = reports[(record["source_file"], record["source_sheet"])]
            report.duplicates += 1
            column = report.header(key_fields[0])
            if content(record) == winner_content:
                problems.append(Problem(record["source_file"], record["source_sheet"],
                                        record["source_row"], column, label,
                                        f"exact duplicate of {where(winner)}", "counted once",
                                        DUPLICATE))
            else:
                conflicted = True
                problems.append(Problem(record["source_file"], record["source_sheet"],
                                        record["source_row"], column, label,
                                        f"the same {column} appears with different content in the later {where(winner)}",
                                        "superseded by the later row", ERROR))
        if conflicted:
            column = reports[(winner["source_file"], winner["source_sheet"])].header(key_fields[0])
            problems.append(Problem(winner["source_file"], winner["source_sheet"],
                                    winner["source_row"], column, label,
                                    f"the same {column} appears with different content in an earlier row",
                                    "this later row is used", WARNING))
    order = {id(r): i for i, r in enumerate(records)}
    kept.sort(key=lambda r: order[id(r)])
    return kept


def reject(record: dict, column: str, value: object, message: str, reports: dict,
           problems: list[Problem]) -> None:
    report = reports[(record["source_file"], record["source_sheet"])]
    report.rejected += 1
    problems.append(Problem(record["source_file"], record["source_sheet"], record["source_row"],
                            report.header(column), show(value), message, "row rejected"))


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def joined_on(partner_rows: Iterable[dict]) -> dict[str, date | None]:
    """Each partner's earliest joined_on over its snapshots (None when no snapshot gives one)."""
    joined: dict[str, date | None] = {}
    for partner in partner_rows:
        day, known = partner["joined_on"], joined.get(partner["partner_id"])
        joined[partner["partner_id"]] = min(day, known) if day and known else day or known
    return joined


def settle(records: dict[str, list[dict]], reports: dict, problems: list[Problem],
           through: date | None, rejected_partners: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """Row decisions that need the whole inbox: rates, known partners, dates in the run."""
    rates = {(r["currency"], r["month"]): r["usd_rate"] for r in records["rates"]}
    sales = []
    for record in records["sales"]:
        currency = record.get("currency") or ""
        if record.get("amount_usd") is None:
            if currency in ("", "USD"):
                record["amount_usd"] = record["amount"]
                record["usd_rate"] = None
            else:
                month = month_of(record["invoice_date"])
                rate = rates.get((currency, month))
                if rate is None:
                    reject(record, "currency", currency,
                           f"no {currency} rate for {month:%Y-%m} (add it to a rates sheet: currency, month, usd_rate)",
                           reports, problems)
                    continue
                record["usd_rate"] = rate
                record["amount_usd"] = excel_round(record["amount"] * rate, 2)  # I6, as ROUND(,2)
        else:
            record["usd_rate"] = None
        sales.append(record)
    records = dict(records, sales=sales)

    joined = joined_on(records["partners"])

    date_field = {"sales": "invoice_date", "activities": "date", "leads": "received_on",
                  "claims": "date"}
    limit = next_month(through) if through is not None else None
    later: dict[tuple[str, str, str], int] = defaultdict(int)  # (file, sheet, column) -> rows
    settled = {"partners": records["partners"], "rates": records["rates"]}
    for kind, column in date_field.items():
        kept = []
        for record in records[kind]:
            day = record[column]
            if "partner_id" in record:
                pid = record["partner_id"]
                if pid not in joined:
                    why = (f"partner's own row was rejected ({rejected_partners[pid]})"
                           if pid in (rejected_partners or {}) else "unknown partner (not in any partners sheet)")
                    reject(record, "partner_id", pid, why, reports, problems)
                    continue
                start = joined[pid]
                if start is not None and month_of(day) < month_of(start):
                    reject(record, column, day,
                           f"dated before partner {pid} joined the programme ({start:%Y-%m})",
                           reports, problems)
                    continue
            if limit is not None and day >= limit:
                later[(record["source_file"], record["source_sheet"], column)] += 1
                continue
            kept.append(record)
        settled[kind] = kept
    # I7: rows dated after --through are not wrong: accepted, not used, and noted once per sheet.
    for (file, sheet, column), count in later.items():
        report = reports[(file, sheet)]
        report.accepted += count
        rows = "1 row" if count == 1 else f"{count} rows"
        problems.append(Problem(file, sheet, None, report.header(column), "",
                                f"{rows} dated after {through:%Y-%m}, outside this run (--through)",
                                NOTED, NOTE))
    return settled


FLOAT_FIELDS = {"amount_usd", "amount", "usd_rate", "expense_usd", "requested_usd"}


def to_frame(kind: str, records: list[dict]) -> pd.DataFrame:
    """Typed records as a frame: amounts as floats (NaN when blank), everything else as the
    Python values the parsers made (None stays None, dates stay dates)."""
    extra = {"sales": ["usd_rate"], "activities": ["activity_text"]}.get(kind, [])
    columns = FIELDS[kind] + PROVENANCE + extra
    data = {}
    for column in columns:
        values = [record.get(column) for record in records]
        if column in FLOAT_FIELDS:
            data[column] = pd.Series([float("nan") if v is None else v for v in values], dtype=float)
        elif column == "source_row":
            data[column] = pd.Series(values, dtype="int64")
        else:
            data[column] = pd.Series(values, dtype=object)
    return pd.DataFrame(data, columns=columns)


def read_inbox(folder: Path, rules: Rules, through: date | None = None,
               progress: Callable[[Iterable], Iterable] | None = None) -> Inbox:
    """Read every sheet of every file in `folder` and account for every row (I1-I7)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InboxError(f"inbox {folder} is not a folder")
    mapping = load_mapping(folder)
    reader = SheetReader(rules, mapping)
    problems: list[Problem] = []
    report_list: list[SheetReport] = []
    records: dict[str, list[dict]] = {kind: [] for kind in FIELDS}
    files = inbox_files(folder)
    for path in (progress(files) if progress else files):
        display = path.relative_to(folder).as_posix()
        if path.name == MAPPING_FILE:
            continue
        if path.suffix.casefold() not in SPREADSHEET_SUFFIXES:
            report_list.append(SheetReport(display, "", "ignored (not a spreadsheet file)"))
            continue
        sheets, trouble = read_file(path, display)
        if trouble:
            problems.append(trouble)
            report_list.append(SheetReport(display, "", "unreadable file"))
            continue
        for sheet in sheets:
            kind, rows, sheet_problems, report = reader.read(sheet)
            problems.extend(sheet_problems)
            report_list.append(report)
            if kind:
                records[kind].extend(rows)
    reports = {(r.file, r.sheet): r for r in report_list}
    for kind in FIELDS:
        records[kind] = drop_duplicates(kind, records[kind], reports, problems)
    settled = settle(records, reports, problems, through, reader.rejected_partners)
    for kind, rows in settled.items():
        for record in rows:
            reports[(record["source_file"], record["source_sheet"])].accepted += 1
    frames = {kind: to_frame(kind, rows) for kind, rows in settled.items()}
    sheet_order = {(r.file, r.sheet): i for i, r in enumerate(report_list)}
    problems.sort(key=lambda p: (sheet_order.get((p.file, p.sheet), -1), p.row or 0))
    return Inbox(frames, problems, report_list)
