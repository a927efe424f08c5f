"""`tiersheet whatif` (O10): the programme run again with hypothetical rows, before and after."""

from __future__ import annotations

import json

import openpyxl
from click.testing import CliRunner

from tiersheet.cli import main

from test_cli import SAMPLES


def whatif(*args: str):
    return CliRunner().invoke(main, ["whatif", str(SAMPLES), *args], catch_exceptions=False)


def as_json(*args: str) -> dict:
    result = whatif(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_o10_before_is_what_the_run_computes(tmp_path):
    before = as_json("--partner", "P008")["before"]
    assert CliRunner().invoke(main, ["run", str(SAMPLES), "--out", str(tmp_path), "-q",
                                     "--statements", "none"]).exit_code == 0
    sheet = openpyxl.load_workbook(tmp_path / "tiersheet-2025-03.xlsx", data_only=True)["Partners"]
    headers = [c.value for c in sheet[1]]
    row = next(dict(zip(headers, r)) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "P008")
    assert (before["closing_points"], before["status"], before["points_to_next"]) == (
        row["Closing points"], row["Status"], row["Points to next"])


def test_o10_o5_a_sale_of_the_sales_to_next_reaches_the_points_and_a_dollar_less_does_not():
    """P008 (Business Partner, 293 points, R4 bonus on): 207 to Certified. $1,070 earns
    trunc(1070/10) = 107 (R3) + 10 x trunc(1070/100) = 100 (R4) = 207; $1,069 earns 106 + 100."""
    document = as_json("--partner", "P008", "--sale", "1070")
    assert document["month"] == "2025-03"
    assert (document["before"]["closing_points"], document["before"]["sales_to_next"]) == (293, 1070)
    assert (document["after"]["closing_points"], document["after"]["points_to_next"]) == (500, 0)
    assert as_json("--partner", "P008", "--sale", "1069")["after"]["points_to_next"] == 1


def test_o10_requirements_set_for_the_month_renew_a_lapsed_certificate():
    """P010 lapsed in March for want of an NDA (R10); with the NDA signed it is renewed."""
    document = as_json("--partner", "P010", "--set", "nda=yes", "--set", "certified_engineers=1")
    before, after = document["before"], document["after"]
    assert (before["change"], before["missing_for_status"]) == ("Lapsed", "Non-disclosure agreement")
    assert (after["change"], after["missing_for_status"]) == ("Renewed", "")
    assert "Certified Bitrix engineers" in before["missing_for_next"]
    assert "Certified Bitrix engineers" not in after["missing_for_next"]


def test_o10_an_activity_adds_its_points_but_not_the_missing_requirements():
    """R5: a case study is 250 points; P008 then has the points for Certified, not the rest."""
    after = as_json("--partner", "P008", "--activity", "case_study")["after"]
    assert (after["closing_points"], after["status"], after["points_to_next"]) == (543, "Business Partner", 0)
    assert after["missing_for_next"].startswith("Certified Bitrix engineers: 0 of 1")


def test_o10_text_output_marks_what_changes_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in SAMPLES.iterdir())
    result = whatif("--partner", "P008", "--sale", "1070")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "What if, for P008 at the close of March 2025:"
    assert any(line.startswith("* Closing points") and "293" in line and line.rstrip().endswith("500")
               for line in lines)
    assert any(line.startswith("  Status") for line in lines)  # unchanged lines are not marked
    assert sorted((p.name, p.stat().st_mtime_ns) for p in SAMPLES.iterdir()) == before
    assert list(tmp_path.iterdir()) == []


def test_o10_earlier_month():
    document = as_json("--partner", "P003", "--month", "2025-01")
    assert document["month"] == "2025-01"
    assert (document["before"]["closing_points"], document["before"]["status"]) == (2374, "Gold Certified Partner")


def test_o10_unknown_partner_activity_or_field_is_a_usage_error_listing_what_is_valid():
    result = CliRunner().invoke(main, ["whatif", str(SAMPLES), "--partner", "P999"])
    assert result.exit_code == 2 and "P001, P002" in result.output
    result = CliRunner().invoke(main, ["whatif", str(SAMPLES), "--partner", "P001", "--activity", "party"])
    assert result.exit_code == 2 and "case_study, custom_modules" in result.output
    result = CliRunner().invoke(main, ["whatif", str(SAMPLES), "--partner", "P001", "--set", "colour=red"])
    assert result.exit_code == 2 and "certified_engineers" in result.output
    result = CliRunner().invoke(main, ["whatif", str(SAMPLES), "--partner", "P001", "--set", "nda=perhaps"])
    assert result.exit_code == 2 and "is not yes or no" in result.output


def test_o10_issue_13_a_business_partner_237_short_of_certified(tmp_path):
    """Issue 13's case: P1 (Business, meets Certified) sold $1,330 in January: 133 + bonus 130 =
    263 points, 237 short of 500. $1,200 more earns 120 + 120 = 240 -> 503, Certified;
    $1,100 earns 110 + 110 = 220 -> 483, still Business. P2, the same without an engineer, lacks
    "Certified Bitrix engineers: 0 of 1" until --set certified_engineers=2."""
    import datetime as dt

    from tiersheet.config import load_rules
    from tiersheet.inbox import read_inbox
    from tiersheet.whatif import what_if
    from test_rules import MEETS_CERTIFIED, partner, sale, write_inbox

    no_engineer = list(MEETS_CERTIFIED)
    no_engineer[2] = 0
    write_inbox(tmp_path, partners=[partner("P1", "Business", 0, reqs=MEETS_CERTIFIED),
                                    partner("P2", "Business", 0, reqs=no_engineer)],
                sales=[sale("I1", "P1", dt.date(2025, 1, 10), 1330), sale("I2", "P2", dt.date(2025, 1, 10), 1330)])
    rules = load_rules()
    data = read_inbox(tmp_path, rules)
    _, before, after = what_if(data, rules, "P1", None, sales=(1200.0,))
    assert (before.closing_points, before.points_to_next, before.sales_to_next) == (263, 237, 1200)
    assert (after.closing_points, after.status, after.change) == (503, "Certified Partner", "Upgrade")
    _, _, after = what_if(data, rules, "P1", None, sales=(1100.0,))
    assert (after.closing_points, after.status) == (483, "Business Partner")
    _, before, after = what_if(data, rules, "P2", None, settings=("certified_engineers=2",))
    assert before.missing_for_next == "Certified Bitrix engineers: 0 of 1" and after.missing_for_next == ""
