"""`tiersheet check` (O7): the inbox validated exactly as `run` reads it, with nothing written."""

from __future__ import annotations

import json
from datetime import date

import openpyxl
from click.testing import CliRunner

from tiersheet.cli import main

from test_cli import SAMPLES, write_inbox


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def listing(folder):
    return sorted((p.relative_to(folder).as_posix(), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_o7_check_on_the_samples_lists_their_eight_problems_and_exits_1(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = listing(SAMPLES)
    result = invoke("check", str(SAMPLES))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    # 8 files: the CRM leads report and the European co-op CSV hold rows moved out of the
    # monthly workbooks (issue 10), so the rows and problems are the same; March's adjustment
    # (R17) is one more file and one more accepted row
    assert lines[0] == f"{SAMPLES}: 8 file(s), 100 input rows (93 accepted, 5 rejected, 1 duplicate(s))"
    assert "  2025-02.xlsx" in lines
    assert ("    [Sales] row 13, column Amount = 'TBD': is not an amount: write an amount such as 1234.50 "
            "or 1.234,50 (row rejected)") in lines
    assert ("    [Co-op] row 6, column Expense USD = '-450': is negative: write an amount of 0 or more such "
            "as 1234.50 (row rejected)") in lines
    assert lines[-1] == ("8 problem(s) in 4 file(s) (1 exact duplicate(s) counted once, 3 note(s); not problems); "
                         "a run would cover 3 month(s), 2025-01..2025-03.")
    assert listing(SAMPLES) == before and list(tmp_path.iterdir()) == []  # nothing written


def test_o7_check_json_reports_the_same_problems_as_the_run_writes_on_exceptions(tmp_path):
    result = invoke("check", str(SAMPLES), "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["counts"] == {"files": 8, "problems": 8, "notes": 3, "duplicates": 1,
                                  "rows_read": 100, "accepted": 93, "rejected": 5}
    assert document["months"] == ["2025-01", "2025-02", "2025-03"]
    checked = sorted((p["file"], p["sheet"], p["row"], p["column"], p["value"] or None, p["problem"], p["action"])
                     for p in document["problems"] + document["duplicates"] + document["notes"])
    assert invoke("run", str(SAMPLES), "--out", str(tmp_path / "out"), "-q").exit_code == 0
    sheet = openpyxl.load_workbook(tmp_path / "out" / "tiersheet-2025-03.xlsx")["Exceptions"]
    exceptions = sorted(tuple(None if v == "" else v for v in row)
                        for row in sheet.iter_rows(min_row=2, values_only=True))
    assert checked == exceptions
    reconciliation = openpyxl.load_workbook(tmp_path / "out" / "tiersheet-2025-03.xlsx")["Reconciliation"]
    assert [list(r.values()) for r in document["reconciliation"]] == [
        list(row) for row in reconciliation.iter_rows(min_row=2, values_only=True)]


def test_o7_check_on_a_clean_inbox_exits_0(tmp_path):
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 330],
                                             ["S2", "P2", date(2025, 2, 5), 120]])
    result = invoke("check", str(inbox))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Clean: no problems; a run would cover 2 month(s), 2025-01..2025-02."
    assert "Problems" not in result.output


def test_o7_check_on_a_dirty_inbox_names_file_sheet_row_column_and_value(tmp_path):
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 330],
                                             ["S2", "P9", date(2025, 1, 6), 100],
                                             ["S3", "P2", "yesterday", 100]])
    result = invoke("check", str(inbox))
    assert result.exit_code == 1
    assert ("  export.xlsx\n"
            "    [Sales] row 3, column Partner ID = 'P9': unknown partner (not in any partners sheet): add the "
            "partner or correct the ID (row rejected)\n"
            "    [Sales] row 4, column Invoice Date = 'yesterday': is not a date") in result.output
    document = json.loads(invoke("check", str(inbox), "--format", "json").output)
    assert [(p["row"], p["column"]) for p in document["problems"]] == [(3, "Partner ID"), (4, "Invoice Date")]
    assert document["clean"] is False


def test_o7_duplicates_and_notes_are_reported_but_are_not_problems(tmp_path):
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 330],
                                             ["S1", "P1", date(2025, 1, 5), 330],
                                             ["S2", "P1", date(2025, 3, 5), 100]])
    result = invoke("check", str(inbox), "--through", "2025-01")
    assert result.exit_code == 0, result.output
    assert "Exact duplicates (counted once, not problems):" in result.output
    assert "Notes (not problems):" in result.output
    assert "1 row dated after 2025-01, outside this run (--through)" in result.output
    assert result.output.splitlines()[-1].startswith("Clean: no problems (1 exact duplicate(s) counted once, 1 note(s)")


def test_o7_check_of_an_inbox_with_nothing_to_run_exits_1(tmp_path):
    inbox = write_inbox(tmp_path / "inbox", [])
    result = invoke("check", str(inbox))
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith("Nothing to run: the inbox holds no dated sales")


def test_o7_check_usage_errors_exit_2(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[points]\nusd_per_point = 'ten'\n")
    result = CliRunner().invoke(main, ["check", str(SAMPLES), "--rules", str(rules)])
    assert result.exit_code == 2 and "rules file" in result.output
    result = CliRunner().invoke(main, ["check", str(SAMPLES), "--format", "xml"])
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["check", str(SAMPLES), "--through", "2205-03"])
    assert result.exit_code == 2 and "2025-03" in result.output


def test_o7_check_help_has_an_example():
    result = invoke("check", "--help")
    assert "tiersheet check samples/inbox --format json" in result.output
