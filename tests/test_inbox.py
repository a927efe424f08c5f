"""Tests of reading the inbox (SPEC I1-I7): cell parsers, headers, kinds, problems, duplicates,
currencies, and the Reconciliation accounting (every non-empty row ends accepted, rejected or
duplicate), including a hypothesis property test over generated inboxes.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiersheet.config import load_rules
from tiersheet.inbox import (
    CellError, InboxError, SheetReader, activity_parser, detect_kind, level_parser,
    normalise_header, parse_date, parse_number, parse_yes, read_inbox, sale_type_parser)
from tiersheet.problems import DUPLICATE, ERROR

D = dt.date
B, C, G = "Business Partner", "Certified Partner", "Gold Certified Partner"
RULES = load_rules()

PARTNER_HEADERS = ["Partner ID", "Partner Name", "Starting Status", "Partner Agreement", "NDA"]
SALES_HEADERS = ["Invoice ID", "Partner ID", "Invoice Date", "Product", "Amount USD"]


def write_xlsx(path: Path, sheets: dict[str, list[list]], start_row: int = 1) -> Path:
    """Write sheets (title -> rows, the first row being the header) starting at `start_row`."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.cell(row=start_row + r, column=c + 1, value=value)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        for row in rows:
            writer.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v
                             for v in row])
    return path


def partners_file(folder: Path, ids=("P1", "P2"), name="00-partners.xlsx") -> Path:
    rows = [PARTNER_HEADERS] + [[pid, f"Partner {pid}", "Business", "yes", "yes"] for pid in ids]
    return write_xlsx(folder / name, {"Partners": rows})


def report(inbox, file, sheet=None):
    found = [r for r in inbox.reports if r.file == file and (sheet is None or r.sheet == sheet)]
    assert len(found) == 1, [(r.file, r.sheet) for r in inbox.reports]
    return found[0]


def assert_reconciled(inbox):
    for r in inbox.reports:
        assert r.rows_read == r.accepted + r.rejected + r.duplicates, r


def errors(inbox):
    return [p for p in inbox.problems if p.severity == ERROR]


# =============================================================================================
# Cell parsers (I2, I4, I6, Status names)
# =============================================================================================

@pytest.mark.parametrize("value, expected", [
    ("$1,234.50", 1234.5),
    ("(120.00)", -120.0),
    ("-$75", -75.0),
    ("1234", 1234.0),
    (" 12.5 ", 12.5),
    (42, 42.0),
    (-3.25, -3.25),
    ("USD 1,000", 1000.0),
])
def test_i6_parse_number_reads_money_text(value, expected):
    assert parse_number(value) == expected


@pytest.mark.parametrize("value", ["TBD", "", "12..5", "n/a", "1.2.3", True, False,
                                   D(2025, 1, 5), float("nan"), float("inf")])
def test_i6_parse_number_rejects(value):
    with pytest.raises(CellError):
        parse_number(value)


@pytest.mark.parametrize("value, expected", [
    (D(2025, 1, 5), D(2025, 1, 5)),
    (dt.datetime(2025, 1, 5, 0, 0), D(2025, 1, 5)),
    ("2025-01-05", D(2025, 1, 5)),
    (" 2025-12-31 ", D(2025, 12, 31)),
    ("2024-02-29", D(2024, 2, 29)),
    ("2025-1-5", D(2025, 1, 5)),
    (45000, D(2023, 3, 15)),               # I6: an Excel serial in a date column is a date
    ("15.01.2025", D(2025, 1, 15)),         # a day above 12 decides the order on its own
])
def test_i6_parse_date_reads_dates_and_iso_text(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["2025-02-30", "2025-13-01", "05/01/2025", "01.05.2025",
                                   "31/13/2025", "yesterday", "", True, 0.5])
def test_i6_parse_date_rejects(value):
    with pytest.raises(CellError):
        parse_date(value)


@pytest.mark.parametrize("value", ["yes", "Yes", "YES", "y", "Y", "true", "TRUE", "1", 1, 1.0,
                                   "x", "X", "+", True, " yes "])
def test_i2_parse_yes_true(value):
    assert parse_yes(value) is True


@pytest.mark.parametrize("value", ["no", "No", "n", "N", "false", "FALSE", "0", 0, 0.0, "",
                                   "   ", None, False])
def test_i2_parse_yes_false(value):
    assert parse_yes(value) is False


@pytest.mark.parametrize("value", ["maybe", "2", 2, "yess", "ok?"])
def test_i2_parse_yes_rejects(value):
    with pytest.raises(CellError):
        parse_yes(value)


@pytest.mark.parametrize("value, expected", [
    ("Gold", G), ("gold certified partner", G), ("GOLD CERTIFIED PARTNER", G), ("gold", G),
    ("Certified", C), ("certified partner", C), ("  Certified   Partner ", C),
    ("Business", B), ("BUSINESS", B), ("Business Partner", B),
])
def test_status_names_by_full_name_or_first_word_any_case(value, expected):
    assert level_parser(RULES)(value) == expected


@pytest.mark.parametrize("value", ["Platinum", "Gold Partner", "Certif", "", "Partner"])
def test_status_names_other_text_is_a_problem(value):
    with pytest.raises(CellError):
        level_parser(RULES)(value)


@pytest.mark.parametrize("value, expected", [
    ("seminar", "seminar"),
    ("SEMINAR", "seminar"),
    ("Bitrix dedicated seminar", "seminar"),
    ("Bitrix dedicated seminars", "seminar"),           # the seed's plural label
    ("case_study", "case_study"),
    ("Case study delivery", "case_study"),
    ("custom_modules", "custom_modules"),
    ("Development of customized modules", "custom_modules"),
    ("Online or offline product placement", "product_placement"),
    ("Product localization", "localization"),
    ("Product localizations", "localization"),
    ("Project publishing at Bitrix website", "project_publishing"),
])
def test_i4_activity_by_key_label_or_plural_label(value, expected):
    assert activity_parser(RULES)(value) == expected


@pytest.mark.parametrize("value", ["golf day", "", "webinar"])
def test_i4_unknown_activity_is_rejected(value):
    with pytest.raises(CellError):
        activity_parser(RULES)(value)


def test_i3_sale_type_spellings():
    assert [sale_type_parser(v) for v in ("licence", "License", "", None, "Renewal")] == [
        "licence", "licence", "licence", "licence", "renewal"]
    with pytest.raises(CellError):
        sale_type_parser("upgrade")


# =============================================================================================
# Headers and kinds (I1)
# =============================================================================================

def test_i1_header_normalisation():
    assert normalise_header("Partner ID") == normalise_header("partner_id") == \
        normalise_header("PARTNER-ID") == normalise_header(" partner id ")
    assert normalise_header("Amount (USD)") == normalise_header("amount_usd")
    fields = SheetReader(RULES, {}).header_fields(
        ["Partner ID", None, "partner name", "Amount (USD)", "Invoice-Date", "Whatever"])
    assert {name: index for name, (index, _) in fields.items()} == {
        "partner_id": 0, "partner_name": 2, "amount_usd": 3, "invoice_date": 4}
    assert fields["partner_id"][1] == "Partner ID"   # the header as written, for problems


@pytest.mark.parametrize("fields, kind", [
    ({"invoice_id", "partner_id", "invoice_date"}, "sales"),
    ({"activity_id", "partner_id"}, "activities"),
    ({"lead_id", "territory"}, "leads"),
    ({"claim_id", "partner_id"}, "claims"),
    ({"currency", "month", "usd_rate"}, "rates"),
    ({"partner_id", "partner_name", "email"}, "partners"),
    ({"partner_id"}, None),
    ({"currency"}, None),
    (set(), None),
])
def test_i1_kind_detection(fields, kind):
    assert detect_kind(fields) == kind


def test_i1_kinds_from_a_workbook_and_other_sheets_ignored(tmp_path):
    write_xlsx(tmp_path / "all.xlsx", {
        "Partners": [PARTNER_HEADERS, ["P1", "One", "Gold", "yes", "yes"]],
        "Sales": [SALES_HEADERS, ["I1", "P1", D(2025, 1, 5), "X", 10]],
        "Acts": [["Activity ID", "Partner ID", "Date", "Activity"], ["A1", "P1", D(2025, 1, 6), "seminar"]],
        "Leads": [["Lead ID", "Received On", "Territory"], ["L1", D(2025, 1, 7), "de"]],
        "Claims": [["Claim ID", "Partner ID", "Date", "Expense USD"], ["K1", "P1", D(2025, 1, 8), 100]],
        "Notes": [["Remarks"], ["nothing to see"]],
    })
    inbox = read_inbox(tmp_path, RULES)
    kinds = {r.sheet: r.kind for r in inbox.reports}
    assert kinds["Partners"] == "partners" and kinds["Sales"] == "sales"
    assert kinds["Acts"] == "activities" and kinds["Leads"] == "leads"
    assert kinds["Claims"] == "co-op claims" and kinds["Notes"].startswith("ignored")
    assert (len(inbox.partners), len(inbox.sales), len(inbox.activities), len(inbox.leads),
            len(inbox.claims)) == (1, 1, 1, 1, 1)
    assert inbox.partners.iloc[0]["starting_status"] == G
    assert inbox.leads.iloc[0]["territory"] == "DE"
    assert errors(inbox) == []
    assert_reconciled(inbox)


def test_i1_tiersheet_toml_maps_other_header_names(tmp_path):
    (tmp_path / "tiersheet.toml").write_text(
        '[headers]\n"Reseller" = "partner_id"\n"Invoice No" = "invoice_id"\n'
        '"Booked" = "invoice_date"\n"Net" = "amount_usd"\n', encoding="utf-8")
    partners_file(tmp_path)
    write_xlsx(tmp_path / "sales.xlsx", {"Export": [
        ["Invoice No", "Reseller", "Booked", "Net"],
        ["I1", "P1", D(2025, 1, 5), "$1,000.00"],
    ]})
    inbox = read_inbox(tmp_path, RULES)
    assert report(inbox, "sales.xlsx").kind == "sales"
    row = inbox.sales.iloc[0]
    assert (row["invoice_id"], row["partner_id"], row["invoice_date"], row["amount_usd"]) == (
        "I1", "P1", D(2025, 1, 5), 1000.0)
    assert errors(inbox) == []


def test_i1_tiersheet_toml_naming_an_unknown_column_is_an_error(tmp_path):
    (tmp_path / "tiersheet.toml").write_text('[headers]\n"Reseller" = "reseller_code"\n',
                                             encoding="utf-8")
    partners_file(tmp_path)
    with pytest.raises(InboxError) as info:
        read_inbox(tmp_path, RULES)
    assert "Reseller" in str(info.value)


# =============================================================================================
# Problems (I7)
# =============================================================================================

def test_i7_missing_required_column_rejects_the_whole_sheet(tmp_path):
    partners_file(tmp_path)
    write_xlsx(tmp_path / "sales.xlsx", {"Sales": [
        ["Invoice ID", "Partner ID", "Amount USD"],          # no Invoice Date
        ["I1", "P1", 100], ["I2", "P1", 200],
    ]})
    inbox = read_inbox(tmp_path, RULES)
    r = report(inbox, "sales.xlsx")
    assert (r.kind, r.rows_read, r.accepted, r.rejected) == ("sales", 2, 0, 2)
    assert len(inbox.sales) == 0
    [problem] = [p for p in inbox.problems if p.file == "sales.xlsx"]
    assert problem.sheet == "Sales" and problem.severity == ERROR
    assert "invoicedate" in normalise_header(problem.column)
    assert "invoicedate" in normalise_header(problem.message)


def test_i7_missing_amount_column_rejects_the_sales_sheet(tmp_path):
    partners_file(tmp_path)
    write_xlsx(tmp_path / "sales.xlsx", {"Sales": [
        ["Invoice ID", "Partner ID", "Invoice Date"], ["I1", "P1", D(2025, 1, 5)]]})
    inbox = read_inbox(tmp_path, RULES)
    [problem] = [p for p in inbox.problems if p.file == "sales.xlsx"]
    assert "amount" in normalise_header(problem.column)
    assert report(inbox, "sales.xlsx").rejected == 1 and len(inbox.sales) == 0


def test_i7_corrupt_and_non_spreadsheet_files_are_problems_the_rest_is_read(tmp_path):
    partners_file(tmp_path)
    write_xlsx(tmp_path / "good.xlsx", {"Sales": [SALES_HEADERS, ["I1", "P1", D(2025, 1, 5), "X", 100]]})
    (tmp_path / "corrupt.xlsx").write_bytes(b"\x00\x01" + os.urandom(2048))
    (tmp_path / "zipped.xlsx").write_bytes(b"PK\x03\x04" + os.urandom(2048))
    inbox = read_inbox(tmp_path, RULES)
    assert list(inbox.sales["invoice_id"]) == ["I1"]
    bad = {p.file: p for p in inbox.problems if p.file in ("corrupt.xlsx", "zipped.xlsx")}
    assert set(bad) == {"corrupt.xlsx", "zipped.xlsx"}
    for p in bad.values():
        assert p.severity == ERROR and p.row is None and p.message
    assert report(inbox, "good.xlsx").accepted == 1
    assert_reconciled(inbox)


def test_i1_csv_input(tmp_path):
    partners_file(tmp_path)
    write_csv(tmp_path / "sales.csv", [
        ["Invoice ID", "Partner ID", "Invoice Date", "Amount USD"],
        ["I1", "P1", "2025-01-05", "$1,234.50"],
        ["I2", "P2", "2025-02-05", "(120.00)"],
        ["I3", "P1", "2025-02-30", "100"],
    ])
    inbox = read_inbox(tmp_path, RULES)
    assert dict(zip(inbox.sales["invoice_id"], inbox.sales["amount_usd"])) == {"I1": 1234.5, "I2": -120.0}
    assert dict(zip(inbox.sales["invoice_id"], inbox.sales["invoice_date"])) == {
        "I1": D(2025, 1, 5), "I2": D(2025, 2, 5)}
    [problem] = errors(inbox)
    # CSV line 4 holds I3 (header is line 1)
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "sales.csv", 4, "Invoice Date", "2025-02-30")
    r = report(inbox, "sales.csv")
    assert (r.kind, r.rows_read, r.accepted, r.rejected, r.duplicates) == ("sales", 3, 2, 1, 0)


def test_i7_header_on_row_3_gives_spreadsheet_row_numbers(tmp_path):
    partners_file(tmp_path)
    write_xlsx(tmp_path / "sales.xlsx", {"Sales": [
        SALES_HEADERS,                                   # row 3
        ["I1", "P1", D(2025, 1, 5), "X", 100],           # row 4
        ["I2", "P1", "2025-02-30", "X", 100],            # row 5: bad date
        [None] * 5,                                      # row 6: blank, not counted
        ["I3", "P1", D(2025, 1, 7), "X", "TBD"],         # row 7: bad amount
        ["I4", "P9", D(2025, 1, 8), "X", 50],            # row 8: unknown partner
    ]}, start_row=3)
    inbox = read_inbox(tmp_path, RULES)
    got = sorted((p.row, p.column, p.value) for p in errors(inbox))
    assert got == [(5, "Invoice Date", "2025-02-30"), (7, "Amount USD", "TBD"), (8, "Partner ID", "P9")]
    assert list(inbox.sales["source_row"]) == [4]
    r = report(inbox, "sales.xlsx")
    assert (r.rows_read, r.accepted, r.rejected, r.duplicates) == (4, 1, 3, 0)


def test_i7_unknown_partner_is_rejected(tmp_path):
    partners_file(tmp_path)
    write_xlsx(tmp_path / "sales.xlsx", {"Sales": [
        SALES_HEADERS, ["I1", "P1", D(2025, 1, 5), "X", 100], ["I2", "NOPE", D(2025, 1, 6), "X", 100]]})
    inbox = read_inbox(tmp_path, RULES)
    assert list(inbox.sales["invoice_id"]) == ["I1"]
    [problem] = errors(inbox)
    assert (problem.row, problem.column, problem.value) == (3, "Partner ID", "NOPE")
    assert "unknown partner" in problem.message
    assert report(inbox, "sales.xlsx").rejected == 1


def test_i7_exact_duplicate_counted_once(tmp_path):
    partners_file(tmp_path)
    row = ["I1", "P1", D(2025, 1, 5), "X", 100]
    write_xlsx(tmp_path / "01-jan.xlsx", {"Sales": [SALES_HEADERS, row]})
    write_xlsx(tmp_path / "02-again.xlsx", {"Sales": [SALES_HEADERS, ["I1", "P1", D(2025, 1, 5), "X", "$100.00"]]})
    inbox = read_inbox(tmp_path, RULES)
    assert len(inbox.sales) == 1 and inbox.sales.iloc[0]["source_file"] == "01-jan.xlsx"
    dups = [p for p in inbox.problems if p.severity == DUPLICATE]
    assert len(dups) == 1 and dups[0].file == "02-again.xlsx" and dups[0].row == 2
    assert not dups[0].is_problem
    assert [p for p in inbox.problems if p.is_problem] == []
    assert (report(inbox, "01-jan.xlsx").accepted, report(inbox, "02-again.xlsx").duplicates) == (1, 1)
    assert report(inbox, "02-again.xlsx").accepted == 0
    assert_reconciled(inbox)


def test_i7_conflicting_duplicate_later_file_in_path_order_wins(tmp_path):
    partners_file(tmp_path)
    # written in reverse order, so that file times disagree with path order
    write_xlsx(tmp_path / "b-later.xlsx", {"Sales": [SALES_HEADERS, ["I1", "P1", D(2025, 1, 5), "X", 200]]})
    write_xlsx(tmp_path / "a-earlier.xlsx", {"Sales": [SALES_HEADERS, ["I1", "P1", D(2025, 1, 5), "X", 100],
                                                       ["I2", "P2", D(2025, 1, 6), "X", 50]]})
    inbox = read_inbox(tmp_path, RULES)
    amounts = dict(zip(inbox.sales["invoice_id"], inbox.sales["amount_usd"]))
    assert amounts == {"I1": 200.0, "I2": 50.0}
    i1 = inbox.sales[inbox.sales["invoice_id"] == "I1"].iloc[0]
    assert i1["source_file"] == "b-later.xlsx"
    reported = {p.file for p in inbox.problems if p.value == "I1"}
    assert reported == {"a-earlier.xlsx", "b-later.xlsx"}               # both reported
    assert report(inbox, "a-earlier.xlsx").duplicates == 1
    assert (report(inbox, "a-earlier.xlsx").accepted, report(inbox, "b-later.xlsx").accepted) == (1, 1)
    assert_reconciled(inbox)


def test_i6_foreign_currency_needs_a_rate(tmp_path):
    partners_file(tmp_path)
    write_xlsx(tmp_path / "sales.xlsx", {
        "Sales": [
            ["Invoice ID", "Partner ID", "Invoice Date", "Amount", "Currency"],
            ["I1", "P1", D(2025, 1, 5), 333.33, "EUR"],     # row 2: rate 1.0875
            ["I2", "P1", D(2025, 1, 6), 10, "GBP"],         # row 3: no GBP rate
            ["I3", "P1", D(2025, 2, 6), 100, "eur"],        # row 4: no EUR rate for 2025-02
            ["I4", "P1", D(2025, 1, 7), 75.5, "USD"],       # row 5: dollars already
            ["I5", "P1", D(2025, 1, 8), 20, None],          # row 6: blank currency = USD
        ],
        "Rates": [["Currency", "Month", "USD Rate"], ["EUR", "2025-01", 1.0875]],
    })
    inbox = read_inbox(tmp_path, RULES)
    amounts = dict(zip(inbox.sales["invoice_id"], inbox.sales["amount_usd"]))
    # 333.33 x 1.0875 = 362.496375 -> ROUND(, 2) = 362.50
    assert amounts == {"I1": 362.5, "I4": 75.5, "I5": 20.0}
    rejected = sorted((p.row, p.column) for p in errors(inbox))
    assert rejected == [(3, "Currency"), (4, "Currency")]
    gbp = next(p for p in errors(inbox) if p.row == 3)
    assert "GBP" in gbp.message and "2025-01" in gbp.message
    r = report(inbox, "sales.xlsx", "Sales")
    assert (r.rows_read, r.accepted, r.rejected) == (5, 3, 2)
    assert report(inbox, "sales.xlsx", "Rates").accepted == 1


def test_i7_bad_requirement_cell_is_a_warning_counted_as_not_met(tmp_path):
    write_xlsx(tmp_path / "p.xlsx", {"Partners": [
        ["Partner ID", "Partner Name", "NDA", "Certified Engineers"], ["P1", "One", "maybe", "two"]]})
    inbox = read_inbox(tmp_path, RULES)
    assert len(inbox.partners) == 1
    row = inbox.partners.iloc[0]
    assert not row["nda"] and not row["certified_engineers"]
    assert sorted(p.column for p in inbox.problems if p.severity == "warning") == [
        "Certified Engineers", "NDA"]
    assert errors(inbox) == []


# =============================================================================================
# Property: every non-empty row ends in exactly one of accepted, rejected, duplicate (I7, O3)
# =============================================================================================

KNOWN = ("P1", "P2", "P3")
BAD_AMOUNTS = ["TBD", "n/a", "12..5", True, "abc$"]
BAD_DATES = ["2025-02-30", "31/13/2025", "yesterday", "13.13.2025"]
ROW_KINDS = ["good", "good", "bad_amount", "bad_date", "unknown", "exact", "conflict", "blank"]


@st.composite
def generated_inboxes(draw):
    """Rows of a sales export spread over one or two files; each row tagged with its fate."""
    n = draw(st.integers(min_value=1, max_value=18))
    split = draw(st.booleans())
    second_is_csv = draw(st.booleans())
    rows = []  # (file index, kind, cells)
    goods = []
    for i in range(n):
        kind = draw(st.sampled_from(ROW_KINDS))
        if kind in ("exact", "conflict") and not goods:
            kind = "good"
        where = draw(st.integers(0, 1)) if split else 0
        if kind == "blank":
            rows.append((where, kind, None))
            continue
        if kind in ("exact", "conflict"):
            original = draw(st.sampled_from(goods))
            cells = list(original)
            if kind == "conflict":
                cells[4] = round(cells[4] + draw(st.integers(1, 500)), 2)
            rows.append((where, kind, cells))
            continue
        cells = [f"INV-{i:03d}", draw(st.sampled_from(KNOWN)),
                 D(2025, draw(st.integers(1, 6)), draw(st.integers(1, 28))), "Bitrix Intranet",
                 draw(st.integers(-50000, 500000)) / 100]
        if kind == "bad_amount":
            cells[4] = draw(st.sampled_from(BAD_AMOUNTS))
        elif kind == "bad_date":
            cells[2] = draw(st.sampled_from(BAD_DATES))
        elif kind == "unknown":
            cells[1] = draw(st.sampled_from(["P9", "X1", "p1"]))
        else:
            goods.append(cells)
        rows.append((where, kind, cells))
    return rows, second_is_csv


def build_inbox(folder: Path, rows, second_is_csv):
    partners_file(folder, KNOWN)
    names = ["sales-a.xlsx", "sales-b.csv" if second_is_csv else "sales-b.xlsx"]
    for index, name in enumerate(names):
        mine = [cells for where, _, cells in rows if where == index]
        if not mine:
            continue
        table = [SALES_HEADERS] + [cells or [] for cells in mine]
        if name.endswith(".csv"):
            write_csv(folder / name, table)
        else:
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.title = "Sales"
            for row in table:
                ws.append(row)
            wb.save(folder / name)
    return names


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_inboxes())
def test_i7_every_row_ends_accepted_rejected_or_duplicate(generated):
    rows, second_is_csv = generated
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = build_inbox(folder, rows, second_is_csv)
        inbox = read_inbox(folder, RULES)

    sales_reports = [r for r in inbox.reports if r.kind == "sales"]
    for r in inbox.reports:
        assert r.rows_read == r.accepted + r.rejected + r.duplicates, r
    assert sum(r.accepted for r in sales_reports) == len(inbox.sales)

    non_blank = [(w, k, c) for w, k, c in rows if k != "blank"]
    assert sum(r.rows_read for r in sales_reports) == len(non_blank)
    expected_rejected = sum(k in ("bad_amount", "bad_date", "unknown") for _, k, _ in non_blank)
    expected_duplicates = sum(k in ("exact", "conflict") for _, k, _ in non_blank)
    assert sum(r.rejected for r in sales_reports) == expected_rejected
    assert sum(r.duplicates for r in sales_reports) == expected_duplicates

    # the later row in path order (file a before file b, then row order) wins
    ordered = [c for index in (0, 1) for w, k, c in non_blank
               if w == index and k in ("good", "exact", "conflict")]
    last = {}
    for cells in ordered:
        last[cells[0]] = cells[4]
    assert dict(zip(inbox.sales["invoice_id"], inbox.sales["amount_usd"])) == last
    assert inbox.sales["invoice_id"].is_unique

    # every rejection is a problem naming the file, its sheet and the spreadsheet row
    for index, name in enumerate(names):
        data = [(k, c) for w, k, c in rows if w == index]
        expected_rows = {i + 2 for i, (k, _) in enumerate(data)
                         if k in ("bad_amount", "bad_date", "unknown")}
        got = {p.row for p in inbox.problems
               if p.file == name and p.severity == ERROR and p.action == "row rejected"}
        assert got == expected_rows
