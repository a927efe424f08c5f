"""`tiersheet templates` (O7): blank input workbooks made from the input contract, that run
accepts once filled in; the repository's templates/ is exactly what the command writes."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tiersheet.cli import main
from tiersheet.config import load_rules
from tiersheet.inbox.kinds import KINDS
from tiersheet.templates import FILE_NAMES, HELP, SHEET_NAMES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("templates")
    result = CliRunner().invoke(main, ["templates", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def validations(sheet) -> list:
    return list(sheet.data_validations.dataValidation)


@pytest.mark.parametrize("kind", list(KINDS))
def test_o7_template_has_the_contracts_headers_input_messages_and_a_frozen_header(written, kind):
    book = openpyxl.load_workbook(written / FILE_NAMES[kind])
    assert book.sheetnames[0] == SHEET_NAMES[kind] and "Instructions" in book.sheetnames
    sheet = book[SHEET_NAMES[kind]]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [field.header for field in KINDS[kind].fields]
    assert sheet.freeze_panes == "A2"
    messages = {str(v.sqref): v.prompt for v in validations(sheet) if v.showInputMessage and v.prompt}
    for column, field in enumerate(KINDS[kind].fields, start=1):
        cell = f"{openpyxl.utils.get_column_letter(column)}1"
        assert messages[cell] == HELP[kind][field.name], cell


def test_o7_templates_offer_drop_downs_for_the_closed_lists(written):
    rules = load_rules()
    book = openpyxl.load_workbook(written / "partners.xlsx")
    lists = book["Lists"]
    assert lists.sheet_state == "hidden"
    columns = {lists.cell(1, c).value: [lists.cell(r, c).value for r in range(2, lists.max_row + 1)
                                        if lists.cell(r, c).value] for c in range(1, lists.max_column + 1)}
    assert columns["yes"] == ["yes", "no"]
    assert columns["level"] == [level.name for level in rules.levels]
    assert columns["activity"] == [activity.label for activity in rules.activities]
    assert columns["sale_type"] == ["licence", "renewal"]
    assert "EUR" in columns["currency"]
    sheet = book["Partners"]
    by_range = {str(v.sqref): v for v in validations(sheet) if v.type == "list"}
    status_column = openpyxl.utils.get_column_letter(
        [f.name for f in KINDS["partners"].fields].index("starting_status") + 1)
    assert by_range[f"{status_column}2:{status_column}5001"].formula1 == "Lists!$B$2:$B$4"
    nda_column = openpyxl.utils.get_column_letter([f.name for f in KINDS["partners"].fields].index("nda") + 1)
    assert by_range[f"{nda_column}2:{nda_column}5001"].formula1 == "Lists!$A$2:$A$3"
    sales = openpyxl.load_workbook(written / "sales.xlsx")["Sales"]
    types = {v.type for v in validations(sales)}
    assert {"list", "date", "decimal"} <= types
    assert sales.column_dimensions["C"].number_format == "yyyy-mm-dd"  # Invoice Date
    assert sales.column_dimensions["G"].number_format == "#,##0.00"    # Amount USD


def test_o7_instructions_sheet_explains_the_monthly_routine(written):
    sheet = openpyxl.load_workbook(written / "sales.xlsx")["Instructions"]
    text = "\n".join(str(row[0]) for row in sheet.iter_rows(values_only=True) if row[0])
    for step in ("tiersheet check INBOX", "tiersheet run INBOX --out OUT", "tiersheet email OUT --month"):
        assert step in text
    assert "one row per invoice line on the 'Sales' sheet" in text


def test_o7_filled_in_templates_are_an_inbox_that_run_accepts_without_a_problem(written, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = {
        "partners": {"partner_id": "0042", "partner_name": "Fjord Systems AS", "email": "sales@fjord.example",
                     "territories": "NO", "joined_on": date(2024, 6, 1), "starting_status": "Business Partner",
                     "opening_points": 100, "partner_agreement": "yes", "nda": "yes"},
        "sales": {"invoice_id": "INV-1", "partner_id": "0042", "invoice_date": date(2025, 1, 14),
                  "product": "Bitrix Intranet", "edition": "BizPace", "sale_type": "licence", "amount_usd": 1200},
        "activities": {"activity_id": "A-1", "partner_id": "0042", "date": date(2025, 1, 20),
                       "activity": "Case study delivery", "description": "Fjord case study"},
        "leads": {"lead_id": "L-1", "received_on": date(2025, 1, 21), "territory": "NO", "company": "Nordlys"},
        "claims": {"claim_id": "C-1", "partner_id": "0042", "date": date(2025, 1, 22), "expense_usd": 800},
        "rates": {"currency": "EUR", "month": "2025-01", "usd_rate": 1.08},
    }
    for kind, values in rows.items():
        book = openpyxl.load_workbook(written / FILE_NAMES[kind])
        sheet = book[SHEET_NAMES[kind]]
        sheet.append([values.get(field.name) for field in KINDS[kind].fields])
        book.save(inbox / FILE_NAMES[kind])
    result = CliRunner().invoke(main, ["run", str(inbox), "--out", str(tmp_path / "out"), "--strict"])
    assert result.exit_code == 0, result.output
    assert "0 problem(s)" in result.output
    partners = openpyxl.load_workbook(tmp_path / "out" / "tiersheet-2025-01.xlsx", data_only=True)["Partners"]
    # R3 1200/10 = 120, R4 10 x 12 = 120, R5 case study 250: 100 + 120 + 120 + 250 = 590
    assert partners["A2"].value == "0042"  # the text ID keeps its leading zeros
    closing = [c.column for c in partners[1] if c.value == "Closing points"][0]
    assert partners.cell(2, closing).value == 590


def test_o7_templates_refuse_to_overwrite_without_force(written):
    result = CliRunner().invoke(main, ["templates", str(written)])
    assert result.exit_code == 2
    assert "use --force" in result.output
    assert CliRunner().invoke(main, ["templates", str(written), "--force", "-q"]).exit_code == 0


def test_o7_repository_templates_are_what_the_command_writes(written):
    shipped = ROOT / "templates"
    assert sorted(p.name for p in shipped.iterdir()) == sorted(p.name for p in written.iterdir())
    for path in written.iterdir():
        assert (shipped / path.name).read_bytes() == path.read_bytes(), (
            f"templates/{path.name} differs from `tiersheet templates`: run `tiersheet templates templates --force`")


def test_o7_every_key_of_the_rules_file_template_is_explained(written):
    lines = (written / "rules.toml").read_text(encoding="utf-8").splitlines()
    unexplained = [line for i, line in enumerate(lines) if re.match(r"^[A-Za-z_]+\s*=", line)
                   and "#" not in line and not lines[i - 1].lstrip().startswith("#")]
    assert unexplained == []
    assert load_rules(written / "rules.toml") == load_rules()
