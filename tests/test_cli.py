"""`tiersheet run` end to end, through click's CliRunner, on the shipped samples and small inboxes."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tiersheet.cli import main
from tiersheet.config import default_rules_path

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "inbox"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = invoke("run", str(SAMPLES), "--out", str(out))
    assert result.exit_code == 0, result.output
    return out, result


def write_inbox(folder: Path, sales_rows: list[list], partners: list[list] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Partners"
    sheet.append(["Partner ID", "Partner Name", "Partner Agreement", "NDA"])
    for row in partners or [["P1", "One", "yes", "yes"], ["P2", "Two", "yes", "no"]]:
        sheet.append(row)
    sales = book.create_sheet("Sales")
    sales.append(["Invoice ID", "Partner ID", "Invoice Date", "Amount USD"])
    for row in sales_rows:
        sales.append(row)
    book.save(folder / "export.xlsx")
    return folder


def test_o1_samples_run_writes_one_workbook_per_month(sample_run):
    out, result = sample_run
    assert sorted(p.name for p in out.iterdir()) == [
        "statements", "tiersheet-2025-01.xlsx", "tiersheet-2025-02.xlsx", "tiersheet-2025-03.xlsx"]
    assert [p.name for p in (out / "statements").iterdir()] == ["2025-03"]  # O1: the last month's
    assert "3 month(s) 2025-01..2025-03; 13 partners" in result.output
    assert "8 problem(s)" in result.output


def test_o8_summary_counts_the_formula_cells_written(sample_run):
    out, result = sample_run
    import re
    stated = int(re.search(r"\((\d+) formula cells\)", result.output).group(1))
    counted = sum(1 for path in out.glob("*.xlsx")
                  for sheet in openpyxl.load_workbook(path).worksheets
                  for row in sheet.iter_rows() for cell in row if cell.data_type == "f")
    assert stated == counted > 2000


def test_o8_summary_counts_upgrades_and_downgrades(sample_run):
    _, result = sample_run
    # samples/README.md: P003 (Jan), P006 (Feb) and P013 (Mar) upgrade; P002 downgrades in Feb.
    assert "3 upgrade(s), 1 downgrade(s)" in result.output


def test_o1_two_runs_are_byte_identical(sample_run, tmp_path):
    first, _ = sample_run
    again = tmp_path / "again"
    assert invoke("run", str(SAMPLES), "--out", str(again), "-q").exit_code == 0
    files = [path.relative_to(first) for path in first.rglob("*") if path.is_file()]
    assert len(files) == 3 + 13 + 1  # workbooks, the statements and their index.csv
    for path in files:
        assert (first / path).read_bytes() == (again / path).read_bytes(), path


def test_o1_no_temporary_files_left_behind(sample_run):
    out, _ = sample_run
    assert not [p for p in out.rglob("*") if p.name.startswith(".")
                or p.is_file() and p.suffix != ".xlsx" and p.name != "index.csv"]


def test_o2_partners_sheet_has_exact_headers(sample_run):
    out, _ = sample_run
    sheet = openpyxl.load_workbook(out / "tiersheet-2025-01.xlsx")["Partners"]
    assert [c.value for c in sheet[1]] == [
        "Partner ID", "Partner", "Opening status", "Opening points", "Sales points",
        "Bonus points", "Activity points", "Adjustment points", "Closing points", "Status", "Change",
        "Margin %", "Next status", "Points to next", "Missing for status", "Missing for next",
        "Certificate expires", "At risk", "Sales to next (USD)"]  # O2, R17; O5 for the way up


def test_o3_every_sheet_is_present(sample_run):
    out, _ = sample_run
    book = openpyxl.load_workbook(out / "tiersheet-2025-03.xlsx", read_only=True)
    for name in ("Summary", "Partners", "Ledger", "Sales", "Activities", "Requirements", "NFR",
                 "Leads", "Co-op", "Exceptions", "Reconciliation", "Rules"):
        assert name in book.sheetnames


def test_o3_reconciliation_rows_read_equals_the_sum(sample_run):
    out, _ = sample_run
    sheet = openpyxl.load_workbook(out / "tiersheet-2025-02.xlsx", data_only=True)["Reconciliation"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows
    assert [c.value for c in sheet[1]] == ["File", "Sheet", "Kind", "Rows read", "Accepted", "Rejected",
                                           "Duplicates"]
    for file, name, kind, read, accepted, rejected, duplicates in rows:
        assert read == accepted + rejected + duplicates, (file, name)
    # samples: 100 data rows in all (99 and March's adjustment, R17); 2025-01.xlsx Sales has 18
    # (16 accepted, P099 rejected, the superseded INV-2501-014 a duplicate).
    assert sum(r[3] for r in rows) == 100
    assert ("2025-01.xlsx", "Sales", "sales", 18, 16, 1, 1) in rows
    summary = openpyxl.load_workbook(out / "tiersheet-2025-02.xlsx", data_only=True)["Summary"]
    figures = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row[0]}
    assert (figures["Rows read"], figures["Every row accounted for"]) == (100, True)  # 99 + R17's one


def test_o3_exceptions_are_in_every_month_workbook(sample_run):
    out, _ = sample_run
    for path in sorted(out.glob("*.xlsx")):
        sheet = openpyxl.load_workbook(path, data_only=True)["Exceptions"]
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == ("File", "Sheet", "Row", "Column", "Value", "Problem", "Action")
        assert ("2025-01.xlsx", "Sales", 19, "Partner ID", "P099") in [r[:5] for r in rows]
        # 8 problems, 1 exact duplicate and 3 notes: the CRM leads report's two title rows and its
        # totals row (samples/README.md)
        assert len(rows) == 1 + 9 + 3
        notes = [r[:5] for r in rows if r[6] == "noted (not a problem)"]
        assert notes == [("2025-01-crm-leads.xls", "Table 1", 1, "A", "Leads by territory"),
                         ("2025-01-crm-leads.xls", "Table 1", 2, "A",
                          "Created: 1/31/2025; Filter: Received On is in January 2025"),
                         ("2025-01-crm-leads.xls", "Table 1", 10, "Lead ID", "Total")]


def test_i8_input_text_starting_with_equals_is_never_a_formula(sample_run):
    out, _ = sample_run
    sheet = openpyxl.load_workbook(out / "tiersheet-2025-01.xlsx")["Activities"]
    texts = [c for row in sheet.iter_rows(min_row=2) for c in row
             if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")]
    assert texts, "the sample's =HYPERLINK(...) description should be on the Activities sheet"
    assert all(c.data_type == "s" for c in texts)


def test_o4_derived_cells_are_formulas_with_cached_values(sample_run):
    out, _ = sample_run
    path = out / "tiersheet-2025-01.xlsx"
    formulas = openpyxl.load_workbook(path)["Partners"]
    values = openpyxl.load_workbook(path, data_only=True)["Partners"]
    # P003 Hanse (row 4): 240 + 574 + 560 + 1000 = 2374, straight to Gold (samples/README.md).
    assert formulas["A4"].value == "P003"
    for column in "EFGHIJKLMNOPQRS":
        assert str(formulas[f"{column}4"].value).startswith("="), column
    assert [values[f"{c}4"].value for c in "DEFGHIJK"] == [240, 574, 560, 1000, 0, 2374,
                                                             "Gold Certified Partner", "Upgrade"]
    assert "THRESHOLDS" in formulas["I4"].value and "Month close" in formulas["I4"].value
    assert formulas["H4"].value == "=0"  # R17: no adjustments for P003 this month
    assert formulas["E4"].value.startswith("=SUM(Sales!$I$")


def test_o4_no_whole_column_references_or_volatile_functions(sample_run, tmp_path):
    import re
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    from generate import make_inbox

    out, _ = sample_run
    generated = tmp_path / "generated"
    assert invoke("run", str(make_inbox(tmp_path / "inbox", 11, partners=15, months=3)), "--out",
                  str(generated), "-q").exit_code == 0
    for path in sorted(out.rglob("*.xlsx")) + sorted(generated.rglob("*.xlsx")):
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        text = str(cell.value)
                        assert not re.search(r"\$?[A-Z]{1,3}:\$?[A-Z]{1,3}\b", text), (sheet.title, cell.coordinate, text)
                        assert not re.search(r"\b(INDIRECT|OFFSET|NOW|TODAY)\(", text), (sheet.title, cell.coordinate)


def test_o4_rules_sheet_defines_parameter_names(sample_run):
    out, _ = sample_run
    book = openpyxl.load_workbook(out / "tiersheet-2025-01.xlsx")
    names = set(book.defined_names.keys())
    assert {"USD_PER_POINT", "THRESHOLD_GOLD", "THRESHOLD_CERTIFIED", "MARGINS", "LEVEL_NAMES",
            "COOP_SHARE", "MONTH_END"} <= names
    rules = book["Rules"]
    rows = {r[1]: (r[0], r[2]) for r in rules.iter_rows(min_row=2, values_only=True) if r[1]}
    assert rows["USD_PER_POINT"] == ("R3", 10)
    assert rows["THRESHOLD_GOLD"] == ("R1", 2000)
    assert rows["MARGIN_CERTIFIED"] == ("R11", 0.45)


def test_i7_through_cuts_the_run_and_notes_later_rows_without_problems(tmp_path):
    """Issue 8.3: rows after --through are not wrong: accepted on Reconciliation, noted once per
    sheet, not problems (the samples have 8 problems whatever the cut-off)."""
    out = tmp_path / "out"
    result = invoke("run", str(SAMPLES), "--out", str(out), "--through", "2025-02")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.xlsx")) == ["tiersheet-2025-01.xlsx", "tiersheet-2025-02.xlsx"]
    assert "8 problem(s)" in result.output
    book = openpyxl.load_workbook(out / "tiersheet-2025-02.xlsx", data_only=True)
    notes = [r for r in book["Exceptions"].iter_rows(min_row=2, values_only=True)
             if r[6] == "noted (not a problem)" and "--through" in r[5]]
    # the 23 rows that --through 2025-02 used to reject (31 problems instead of 8), one note a
    # sheet; and March's adjustment (R17)
    assert sorted((r[0], r[1], r[5]) for r in notes) == [
        ("2025-03-adjustments.xlsx", "Adjustments", "1 row dated after 2025-02, outside this run (--through)"),
        ("2025-03-portal-activities.csv", "2025-03-portal-activities", "2 rows dated after 2025-02, outside this run (--through)"),
        ("2025-03.xlsx", "Activities", "1 row dated after 2025-02, outside this run (--through)"),
        ("2025-03.xlsx", "Co-op", "3 rows dated after 2025-02, outside this run (--through)"),
        ("2025-03.xlsx", "Leads", "6 rows dated after 2025-02, outside this run (--through)"),
        ("2025-03.xlsx", "Sales", "11 rows dated after 2025-02, outside this run (--through)"),
    ]
    reconciliation = {(r[0], r[1]): r[2:] for r in book["Reconciliation"].iter_rows(min_row=2, values_only=True)}
    assert all(read == accepted + rejected + duplicates
               for _, read, accepted, rejected, duplicates in reconciliation.values())
    assert reconciliation[("2025-03.xlsx", "Sales")] == ("sales", 12, 11, 0, 1)  # accepted, not rejected
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    # 6 notes for --through (5 and the adjustments sheet), 3 for the CRM leads report's title and
    # totals rows
    assert (summary["Problems (see Exceptions)"], summary["Notes (not problems)"]) == (8, 6 + 3)


def test_i7_strict_ignores_rows_outside_the_run(tmp_path):
    """Issue 8.3: --strict counts problems, and rows after --through are not problems."""
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 100],
                                             ["S2", "P1", date(2025, 3, 6), 100]])
    result = invoke("run", str(inbox), "--out", str(tmp_path / "out"), "--through", "2025-01", "--strict")
    assert result.exit_code == 0, result.output
    assert "0 problem(s)" in result.output


def test_through_extends_the_run(tmp_path):
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 100]])
    out = tmp_path / "out"
    assert invoke("run", str(inbox), "--out", str(out), "--through", "2025-03").exit_code == 0
    assert len(list(out.glob("*.xlsx"))) == 3


@pytest.mark.parametrize("value", ["2025-13", "March", "2025/03"])
def test_bad_through_is_a_usage_error(tmp_path, value):
    result = invoke("run", str(SAMPLES), "--out", str(tmp_path), "--through", value)
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output


def test_missing_inbox_is_a_usage_error(tmp_path):
    result = invoke("run", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_rules_file_with_unknown_key_is_a_usage_error_naming_it(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(default_rules_path().read_text().replace("[points]\n", "[points]\nusd_per_pont = 5\n"))
    result = invoke("run", str(SAMPLES), "--out", str(tmp_path / "out"), "--rules", str(rules))
    assert result.exit_code == 2
    assert "points.usd_per_pont" in result.output
    assert not (tmp_path / "out").exists()


def test_rules_file_changes_the_figures(tmp_path):
    # R3 with USD_PER_POINT = 5: a $100 sale earns 20 points; R4 bonus still 10 x trunc(100/100) = 10.
    rules = tmp_path / "rules.toml"
    rules.write_text(default_rules_path().read_text().replace("usd_per_point = 10", "usd_per_point = 5"))
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 100]])
    assert invoke("run", str(inbox), "--out", str(tmp_path / "out"), "--rules", str(rules)).exit_code == 0
    sheet = openpyxl.load_workbook(tmp_path / "out" / "tiersheet-2025-01.xlsx", data_only=True)["Partners"]
    assert (sheet["E2"].value, sheet["F2"].value, sheet["I2"].value) == (20, 10, 30)


def test_strict_exits_1_on_problems_but_still_writes(tmp_path):
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 100],
                                             ["S2", "P9", date(2025, 1, 6), 100]])
    out = tmp_path / "out"
    result = invoke("run", str(inbox), "--out", str(out), "--strict")
    assert result.exit_code == 1
    assert "--strict" in result.output and "P9" in result.output
    assert (out / "tiersheet-2025-01.xlsx").exists()
    assert invoke("run", str(inbox), "--out", str(out)).exit_code == 0


def test_inbox_without_dated_events_exits_1_with_a_message(tmp_path):
    inbox = write_inbox(tmp_path / "inbox", [])
    result = invoke("run", str(inbox), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "no dated sales" in result.output


def test_i7_corrupt_file_is_a_problem_and_the_run_goes_on(tmp_path):
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 330]])
    (inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    (inbox / "notes.txt").write_text("hello")
    out = tmp_path / "out"
    result = invoke("run", str(inbox), "--out", str(out))
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out / "tiersheet-2025-01.xlsx", data_only=True)
    problems = list(book["Exceptions"].iter_rows(min_row=2, values_only=True))
    assert [p[0] for p in problems] == ["broken.xlsx"]
    assert "not a readable spreadsheet" in problems[0][5]
    # R3 + R4: $330 by a Business Partner earns 33 + 30 = 63.
    assert book["Partners"]["I2"].value == 63
    kinds = {r[0]: r[2] for r in book["Reconciliation"].iter_rows(min_row=2, values_only=True)}
    assert kinds["notes.txt"].startswith("ignored")


def test_help_explains_the_run_command():
    result = invoke("run", "--help")
    assert result.exit_code == 0
    for word in ("INBOX", "--out", "--rules", "--through", "--strict", "Exit status"):
        assert word in result.output


def test_cli_works_as_a_module(tmp_path):
    import subprocess
    import sys
    copy = tmp_path / "inbox"
    shutil.copytree(SAMPLES, copy)
    done = subprocess.run([sys.executable, "-m", "tiersheet", "run", str(copy), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_o1_outputs_get_the_mode_an_ordinary_file_gets_under_the_umask(tmp_path, umask, mode):
    """Issue 8.1: a colleague on a shared folder can open the workbooks (not -rw-------)."""
    import os
    import stat
    out = tmp_path / "out"
    previous = os.umask(umask)
    try:
        result = invoke("run", str(SAMPLES), "--out", str(out))
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) >= 3
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_o1_unwritable_output_folder_names_the_folder_not_a_temporary_file(tmp_path):
    """Issue 8: the error names the output folder, not the hidden temporary file (a file
    standing where a folder should be fails for root too, unlike permissions)."""
    (tmp_path / "taken").write_text("a file, not a folder")
    out = tmp_path / "taken" / "out"
    result = CliRunner().invoke(main, ["run", str(SAMPLES), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert f"cannot write to folder {out}" in result.output
    assert ".tmp" not in result.output and "Traceback" not in result.output


def test_o1_ctrl_c_as_the_temporary_file_is_created_leaves_nothing(tmp_path, monkeypatch):
    """A Ctrl-C at the very moment the hidden temporary file comes into being (a worker told to
    stop as its task starts) leaves no file behind: it was named before it was made."""
    import os

    from tiersheet.outputs import atomic_output

    real_open = os.open

    def created_then_interrupted(*args, **kwargs):
        os.close(real_open(*args, **kwargs))
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "open", created_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(tmp_path / "statement.xlsx") as temp:
            temp.write_bytes(b"never reached")
    assert list(tmp_path.iterdir()) == []
