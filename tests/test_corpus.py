"""Issue 10: the exports real systems produce (SPEC I1, I6, I7, I9). Every shape of the corpus
(tests/corpus.py) carries the baseline's data and must give the baseline's figures, row for row,
and the same Reconciliation counts; every problem and note names where it is and what to do."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from corpus import SHAPES, build_corpus  # noqa: E402

from tiersheet.cli import main  # noqa: E402
from tiersheet.config import load_rules  # noqa: E402
from tiersheet.engine import run_engine  # noqa: E402
from tiersheet.inbox import read_inbox  # noqa: E402
from tiersheet.problems import NOTE  # noqa: E402

RULES = load_rules()
KINDS = ("partners", "sales", "rates", "activities", "leads", "co-op claims")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def figures(inbox) -> list[tuple]:
    """The Partners sheet's figures of every month, and each sale's amount in USD."""
    result = run_engine(inbox, RULES)
    rows = []
    for month in result.months:
        for p in month.partners:
            rows.append((f"{month.month:%Y-%m}", p.partner_id, p.name, p.opening_rank, p.opening_points,
                         p.sales_points, p.bonus_points, p.activity_points, p.closing_points, p.rank,
                         p.change, p.certificate_expires, tuple(sorted(p.missing.get(p.rank, [])))))
        rows += [(f"{month.month:%Y-%m}", "sale", i, a) for i, a in
                 sorted(zip(month.sales["invoice_id"], month.sales["amount_usd"]))]
        rows += [(f"{month.month:%Y-%m}", "activity", i, str(d)) for i, d in
                 sorted(zip(month.activities["activity_id"], month.activities["approved_on"]))]
        rows += [(f"{month.month:%Y-%m}", "lead", i) for i in sorted(month.leads["lead_id"])]
    return rows


def counts(inbox) -> dict[str, tuple[int, int, int, int]]:
    """Reconciliation by kind (file and sheet names differ between shapes)."""
    totals = {kind: [0, 0, 0, 0] for kind in KINDS}
    for r in inbox.reports:
        if r.kind in totals:
            for i, n in enumerate((r.rows_read, r.accepted, r.rejected, r.duplicates)):
                totals[r.kind][i] += n
    return {kind: tuple(n) for kind, n in totals.items()}


@pytest.fixture(scope="module")
def baseline(corpus):
    inbox = read_inbox(corpus["baseline"], RULES)
    assert [p for p in inbox.problems if p.is_problem] == []
    return inbox


@pytest.mark.parametrize("shape", [s for s in SHAPES if s != "baseline"])
def test_i1_i6_i9_every_shape_gives_the_baselines_figures_and_counts(corpus, baseline, shape):
    inbox = read_inbox(corpus[shape], RULES)
    assert [str(p) for p in inbox.problems if p.is_problem] == []
    assert counts(inbox) == counts(baseline)
    assert figures(inbox) == figures(baseline)


def test_i1_the_baseline_covers_every_kind_and_month(baseline):
    assert counts(baseline) == {"partners": (4, 4, 0, 0), "sales": (12, 12, 0, 0), "rates": (1, 1, 0, 0),
                                "activities": (4, 4, 0, 0), "leads": (3, 3, 0, 0),
                                "co-op claims": (3, 3, 0, 0)}
    assert len(run_engine(baseline, RULES).months) == 3


def test_i1_title_rows_totals_rows_and_hidden_sheets_are_noted_not_problems(corpus):
    inbox = read_inbox(corpus["xlsx report"], RULES)
    notes = [p for p in inbox.problems if p.severity == NOTE]
    sales = {(p.row, p.column, p.value) for p in notes if p.sheet == "Sales"}
    assert (1, "A", "Sales report") in sales and (2, "A", "Filter: all partners, January to March 2025") in sales
    assert (18, "Invoice ID", "Grand total") in sales          # 3 rows above + header + 12 + 1 blank
    [coop_total] = [p for p in notes if p.sheet == "Co-op" and "totals row" in p.message]
    assert (coop_total.row, coop_total.column, coop_total.value) == (9, "Expense USD", "4800")
    assert [p.sheet for p in notes if "hidden sheet" in p.message] == ["Leads"]
    html = read_inbox(corpus["crm html as xls"], RULES)
    assert {r.sheet for r in html.reports} == {f"Table {n}" for n in range(1, 7)}
    assert any(p.value == "Total" and "totals row" in p.message for p in html.problems)


def test_i7_every_problem_and_note_names_its_place_and_says_what_to_do(corpus, tmp_path):
    """Across the corpus, and an inbox of bad rows: file, sheet, row, column, value, advice."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "sales.csv").write_text(
        "Report: sales\nInvoice ID,Partner ID,Invoice Date,Amount,Currency\n"
        "1,P001,2025-01-15,TBD,USD\n2,P009,2025-01-16,10,USD\n3,P001,2025-01-17,€10,USD\n"
        "4,P001,2025-01-18,#N/A,USD\n5,P001,03/04/2025,10,USD\n6,P001,,10,USD\nTotal,,,40,\n",
        encoding="utf-8")
    (bad / "partners.csv").write_text("Partner ID,Partner Name,NDA\nP001,One,maybe\n", encoding="utf-8")
    advice = re.compile(r"\b(add|write|correct|fill|give|check|remove|nothing to do)\b")
    seen = 0
    for inbox_path in [*corpus.values(), bad]:
        for p in read_inbox(inbox_path, RULES).problems:
            seen += 1
            assert p.file and p.sheet and p.row is not None, p
            if "hidden sheet" not in p.message:
                assert p.column and (p.value or "is empty" in p.message), p
            assert advice.search(p.message), p
    assert seen > 30


def test_i6_an_ambiguous_date_column_is_never_guessed(corpus, tmp_path):
    """Without [formats] dates the activities' all-small days are rejected, naming the setting."""
    inbox_path = tmp_path / "eu"
    inbox_path.mkdir()
    for path in corpus["csv european"].iterdir():
        if path.name != "tiersheet.toml":
            (inbox_path / path.name).write_bytes(path.read_bytes())
    inbox = read_inbox(inbox_path, RULES)
    assert len(inbox.activities) == 0
    rejected = [p for p in inbox.problems if p.file == "activities.csv" and p.is_problem]
    assert len(rejected) == 4 + 2   # every activity date, and both approval dates
    assert all('[formats] dates = "DMY" (or "MDY")' in p.message and "tiersheet.toml" in p.message
               for p in rejected)
    assert len(inbox.sales) == 12   # the invoice dates decide their own column


def test_i6_a_column_that_writes_both_orders_is_a_problem(tmp_path):
    (tmp_path / "p.csv").write_text("Partner ID,Partner Name\nP1,One\n", encoding="utf-8")
    (tmp_path / "s.csv").write_text("Invoice ID,Partner ID,Invoice Date,Amount USD\n"
                                    "1,P1,13/01/2025,10\n2,P1,01/13/2025,10\n3,P1,2025-01-20,10\n",
                                    encoding="utf-8")
    inbox = read_inbox(tmp_path, RULES)
    assert list(inbox.sales["invoice_id"]) == ["3"]
    messages = {p.row: p.message for p in inbox.problems if p.is_problem}
    assert set(messages) == {2, 3} and "row 2: 13/01/2025" in messages[2] and "row 3: 01/13/2025" in messages[2]


def test_i6_spreadsheet_errors_are_problems_naming_the_error(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Partner ID", "Partner Name", "NDA"])
    sheet.append(["P1", "One", "yes"])
    sales = book.create_sheet("Sales")
    sales.append(["Invoice ID", "Partner ID", "Invoice Date", "Amount USD", "Requested USD"])
    sales.append(["1", "P1", date(2025, 1, 5), 100])
    sales.append(["2", "P1", date(2025, 1, 6), None])
    sales["D3"].value, sales["D3"].data_type = "#N/A", "e"      # a real error cell
    sales.append(["3", "P1", date(2025, 1, 7), "#DIV/0!"])      # its text, as a CSV holds it
    sales.append(["4", "P1", date(2025, 1, 8), 40, None])
    sales["B5"].value, sales["B5"].data_type = "#REF!", "e"
    book.save(tmp_path / "book.xlsx")
    inbox = read_inbox(tmp_path, RULES)
    assert list(inbox.sales["invoice_id"]) == ["1"]
    found = sorted((p.row, p.column, p.value) for p in inbox.problems if p.is_problem)
    assert found == [(3, "Amount USD", "#N/A"), (4, "Amount USD", "#DIV/0!"), (5, "Partner ID", "#REF!")]
    assert all("spreadsheet error" in p.message for p in inbox.problems if p.is_problem)


@pytest.mark.parametrize("jobs", [1, 2])
def test_i6_error_cells_are_found_whatever_the_jobs_and_wherever_the_table_starts(tmp_path, jobs):
    """With jobs > 1 a sheet's error cells are looked for in a thread while it is parsed; the
    problems are the same as when they are looked for afterwards, also for a table that starts
    at C4 (python-calamine then counts rows and columns from there)."""
    book = openpyxl.Workbook()
    book.active.append(["Partner ID", "Partner Name"])
    book.active.append(["P1", "One"])
    sales = book.create_sheet("Sales")
    rows = [["Invoice ID", "Partner ID", "Invoice Date", "Amount USD"], ["1", "P1", date(2025, 1, 5), 100],
            ["2", "P1", date(2025, 1, 6), "#N/A"], ["3", "#NAME?", date(2025, 1, 7), 40]]
    for r, row in enumerate(rows, 4):
        for c, value in enumerate(row, 3):
            cell = sales.cell(row=r, column=c, value=value)
            if isinstance(value, str) and value.startswith("#"):
                cell.data_type = "e"
    book.save(tmp_path / "book.xlsx")
    inbox = read_inbox(tmp_path, RULES, jobs=jobs)
    assert list(inbox.sales["invoice_id"]) == ["1"]
    found = sorted((p.row, p.column, p.value) for p in inbox.problems if p.is_problem)
    assert found == [(6, "Amount USD", "#N/A"), (7, "Partner ID", "#NAME?")]


def test_i6_ids_trimmed_numbers_equal_text_leading_zeros_kept(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["Partner ID", "Partner Name"])
    book.active.append(["\u00a01001 ", "One"])
    leads = book.create_sheet("Leads")
    leads.append(["Lead ID", "Received On", "Territory"])
    leads.append(["0042", date(2025, 1, 5), "de"])
    sales = book.create_sheet("Sales")
    sales.append(["Invoice ID", "Partner ID", "Invoice Date", "Amount USD"])
    sales.append([7.0, 1001.0, date(2025, 1, 5), 10])
    book.save(tmp_path / "book.xlsx")
    inbox = read_inbox(tmp_path, RULES)
    assert list(inbox.partners["partner_id"]) == ["1001"]
    assert (list(inbox.sales["partner_id"]), list(inbox.sales["invoice_id"])) == (["1001"], ["7"])
    assert list(inbox.leads["lead_id"]) == ["0042"]


def test_i1_a_file_is_read_by_content_not_extension(tmp_path):
    (tmp_path / "partners.xlsx").write_text("Partner ID;Partner Name\nP1;One\n", encoding="utf-8")
    (tmp_path / "sales.txt").write_text("<table><tr><th>Invoice ID</th><th>Partner ID</th><th>Invoice Date</th>"
                                        "<th>Amount USD</th></tr><tr><td>1</td><td>P1</td><td>2025-01-05</td>"
                                        "<td>$1,234.50</td></tr></table>", encoding="utf-8")
    inbox = read_inbox(tmp_path, RULES)
    assert list(inbox.partners["partner_id"]) == ["P1"]
    assert list(inbox.sales["amount_usd"]) == [1234.5]


def test_i8_spreadsheetml_with_entities_is_refused_not_expanded(tmp_path):
    (tmp_path / "bomb.xls").write_text(
        '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="S"><Table><Row>'
        '<Cell><Data ss:Type="String">&b;</Data></Cell></Row></Table></Worksheet></Workbook>', encoding="utf-8")
    inbox = read_inbox(tmp_path, RULES)
    [problem] = inbox.problems
    assert problem.file == "bomb.xls" and problem.action == "file skipped"
    assert "DTD or entities" in problem.message


def test_i9_csv_settings_override_detection(tmp_path):
    (tmp_path / "tiersheet.toml").write_text('[csv]\nencoding = "cp1250"\ndelimiter = "|"\n', encoding="utf-8")
    (tmp_path / "p.csv").write_bytes("Partner ID|Partner Name\nP1|Wisła Software, Łódź\n".encode("cp1250"))
    inbox = read_inbox(tmp_path, RULES)
    assert list(inbox.partners["partner_name"]) == ["Wisła Software, Łódź"]


def test_i7_nothing_to_run_gives_counts_per_file_and_first_problems(tmp_path):
    (tmp_path / "inbox").mkdir()
    inbox = tmp_path / "inbox"
    (inbox / "p.csv").write_text("Partner ID,Partner Name\nP1,One\n", encoding="utf-8")
    (inbox / "s.csv").write_text("Invoice ID,Partner ID,Invoice Date,Amount USD\n1,P1,05/01/2025,10\n"
                                 "2,P1,06/01/2025,10\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(inbox), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "s.csv: 2 rows read, 0 accepted, 2 rejected, 0 duplicates" in result.output
    assert "s.csv [s] row 2, Invoice Date = '05/01/2025': could be day/month or month/day" in result.output
    result = CliRunner().invoke(main, ["run", str(inbox), "--out", str(tmp_path / "out"), "--through", "2025-01"])
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(tmp_path / "out" / "tiersheet-2025-01.xlsx")["Exceptions"].values)
    assert [r[:3] for r in rows[1:]] == [("s.csv", "s", 2), ("s.csv", "s", 3)]


def test_i1_each_kind_is_described_once_and_its_headers_read_back():
    """The one description per kind (issue 10) is what the reader recognises: every field's
    header reads back to the field, and every kind's required columns name that kind."""
    from tiersheet.inbox import KINDS, SheetReader, detect_kind
    from tiersheet.inbox.kinds import complete_kind
    reader = SheetReader(RULES)
    for kind in KINDS.values():
        headers = [f.header for f in kind.fields]
        assert {name: index for name, (index, _) in reader.header_fields(headers).items()} == {
            f.name: i for i, f in enumerate(kind.fields)}
        required = set(kind.required) | set(kind.one_of[:1])
        assert complete_kind(required) == detect_kind(required) == kind.name


def test_i6_a_currency_sign_that_contradicts_the_rows_currency_is_a_problem(tmp_path):
    (tmp_path / "p.csv").write_text("Partner ID,Partner Name\nP1,One\n", encoding="utf-8")
    (tmp_path / "rates.csv").write_text("Currency,Month,USD Rate\nEUR,2025-01,1.04\n", encoding="utf-8")
    (tmp_path / "s.csv").write_text(
        "Invoice ID;Partner ID;Invoice Date;Amount;Currency\n1;P1;2025-01-05;1.380,00 €;EUR\n"
        "2;P1;2025-01-06;$10.00;EUR\n3;P1;2025-01-07;10 EUR;\n4;P1;2025-01-08;USD 10;USD\n", encoding="cp1252")
    (tmp_path / "c.csv").write_text("Claim ID,Partner ID,Date,Expense USD\nC1,P1,2025-01-09,€100\n",
                                    encoding="utf-8")
    inbox = read_inbox(tmp_path, RULES)
    assert dict(zip(inbox.sales["invoice_id"], inbox.sales["amount_usd"])) == {"1": 1435.2, "4": 10.0}
    found = {(p.file, p.row): p.message for p in inbox.problems if p.is_problem}
    assert found == {("s.csv", 3): "is in USD but the row's currency is EUR: correct the amount or the Currency column",
                     ("s.csv", 4): "is in EUR but the row's currency is USD (Currency is blank): correct the amount "
                                   "or the Currency column",
                     ("c.csv", 2): "is in EUR but the column is in USD: write the amount in US dollars"}


def test_i1_merged_cells_read_as_the_value_they_show(tmp_path):
    """A partner ID merged down over two sale rows belongs to both (xlsx and HTML rowspan)."""
    book = openpyxl.Workbook()
    book.active.append(["Partner ID", "Partner Name"])
    book.active.append(["P1", "One"])
    sales = book.create_sheet("Sales")
    sales.append(["Invoice ID", "Partner ID", "Invoice Date", "Amount USD"])
    sales.append(["1", "P1", date(2025, 1, 5), 10])
    sales.append(["2", None, date(2025, 1, 6), 20])
    sales.merge_cells("B2:B3")
    book.save(tmp_path / "book.xlsx")
    (tmp_path / "more.xls").write_text(
        "<table><tr><th>Invoice ID</th><th>Partner ID</th><th>Invoice Date</th><th>Amount USD</th></tr>"
        "<tr><td>3</td><td rowspan=2>P1</td><td>2025-01-07</td><td>30</td></tr>"
        "<tr><td>4</td><td>2025-01-08</td><td>40</td></tr></table>", encoding="utf-8")
    inbox = read_inbox(tmp_path, RULES)
    assert [p for p in inbox.problems if p.is_problem] == []
    assert dict(zip(inbox.sales["invoice_id"], inbox.sales["partner_id"])) == {"1": "P1", "2": "P1", "3": "P1", "4": "P1"}
    assert list(inbox.sales["amount_usd"]) == [10, 20, 30, 40]
