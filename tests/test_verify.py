"""O4 proved in an independent engine: LibreOffice recalculates our workbooks to the same values,
and editing an input cell moves what depends on it (so the formulas are not decorations)."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tiersheet import verify as verify_module
from tiersheet.cli import main
from tiersheet.config import load_rules
from tiersheet.engine import run_engine
from tiersheet.inbox import read_inbox
from tiersheet.verify import compare, recalculate, verify

from generate import make_inbox

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "inbox"
HAVE_SOFFICE = bool(shutil.which("soffice") or shutil.which("libreoffice"))
if not HAVE_SOFFICE and os.environ.get("CI"):
    raise RuntimeError("CI must install LibreOffice: these tests prove the formulas (.ci/run)")
needs_soffice = pytest.mark.skipif(not HAVE_SOFFICE, reason="LibreOffice is not installed")


def run(inbox: Path, out: Path, *extra: str):
    result = CliRunner().invoke(main, ["run", str(inbox), "--out", str(out), "-q", *extra],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return sorted(out.glob("tiersheet-*.xlsx"))


def tamper(path: Path, member: str, cell: str, old: str, new: str, into: Path) -> Path:
    """Copy workbook `path` to `into`, replacing `old` by `new` once in formula cell `cell` of `member`."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(into, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == member:
                text, count = re.subn(rf'(<c r="{cell}"[^>]*><f>[^<]*</f>){re.escape(old)}',
                                      lambda m: m.group(1) + new, data.decode())
                assert count == 1
                data = text.encode()
            target.writestr(item, data)
    return into


@needs_soffice
def test_o4_samples_recalculate_to_the_same_values(tmp_path):
    paths = run(SAMPLES, tmp_path / "out")
    result = CliRunner().invoke(main, ["verify", *map(str, paths)])
    assert result.exit_code == 0, result.output
    assert result.output.count("formula cells agree with LibreOffice") == 3


@needs_soffice
@pytest.mark.parametrize("seed", [7, 2024])
def test_o4_generated_inbox_recalculates_to_the_same_values(tmp_path, seed):
    inbox = make_inbox(tmp_path / "inbox", seed, partners=14, months=4)
    for path in run(inbox, tmp_path / "out"):
        checked = verify(path)
        assert checked.formulas > 300
        assert checked.differences == [], [str(d) for d in checked.differences[:10]]


@needs_soffice
def test_run_verify_option_checks_what_it_wrote(tmp_path):
    result = CliRunner().invoke(main, ["run", str(SAMPLES), "--out", str(tmp_path), "--verify"])
    assert result.exit_code == 0, result.output
    assert "agree with LibreOffice" in result.output


@needs_soffice
def test_verify_reports_a_cell_whose_cached_value_is_wrong(tmp_path):
    path = run(SAMPLES, tmp_path / "out")[0]
    # Tamper with one cached value: Partners!I2 (P001's closing points, 3922 in samples/README.md).
    tampered = tamper(path, "xl/worksheets/sheet2.xml", "I2", "<v>3922</v>", "<v>3921</v>",
                      tmp_path / "tampered.xlsx")
    result = CliRunner().invoke(main, ["verify", str(tampered)])
    assert result.exit_code == 1
    assert "Partners!I2" in result.output and "3921" in result.output and "3922" in result.output


def test_verify_without_libreoffice_explains_how_to_install(tmp_path, monkeypatch):
    book = run(SAMPLES, tmp_path / "out")[0]
    monkeypatch.setattr(verify_module.shutil, "which", lambda name: None)
    monkeypatch.delenv("TIERSHEET_SOFFICE", raising=False)
    result = CliRunner().invoke(main, ["verify", str(book)])
    assert result.exit_code == 2
    assert "LibreOffice is not installed" in result.output and "apt-get install" in result.output


def test_verify_needs_a_workbook():
    assert CliRunner().invoke(main, ["verify"]).exit_code == 2


def without_libreoffice(monkeypatch) -> None:
    """Make LibreOffice look missing, to show an answer comes before LibreOffice is needed."""
    monkeypatch.setattr(verify_module.shutil, "which", lambda name: None)
    monkeypatch.delenv("TIERSHEET_SOFFICE", raising=False)


def test_verify_says_once_that_a_workbook_saved_without_cached_values_has_nothing_to_compare(
        tmp_path, monkeypatch):
    """O4/O7, issue 8.7: openpyxl drops cached formula values on save; rather than listing every
    formula cell as "cached None", verify says so in one line and exits 1, without LibreOffice."""
    written = run(SAMPLES, tmp_path / "out")[0]
    resaved = tmp_path / "resaved.xlsx"
    openpyxl.load_workbook(written).save(resaved)
    without_libreoffice(monkeypatch)
    result = CliRunner().invoke(main, ["verify", str(resaved)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {resaved}: its formulas carry no cached values (it was saved by a "
                             "program that drops them), so there is nothing to compare; run tiersheet "
                             "again to rewrite it\n")


def test_verify_says_once_that_a_workbook_without_formulas_has_nothing_to_compare(tmp_path, monkeypatch):
    """O4/O7, issue 8.7: a file with no formulas proves nothing; verify says so in one line and
    exits 1 (not "all 0 formula cells agree"), without LibreOffice."""
    book = tmp_path / "plain.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["Partner ID", "Amount USD"])
    workbook.active.append(["P1", 500])
    workbook.save(book)
    without_libreoffice(monkeypatch)
    result = CliRunner().invoke(main, ["verify", str(book)])
    assert result.exit_code == 1
    assert result.output == f"Error: {book}: it has no formulas, so there is nothing to compare\n"


@needs_soffice
def test_verify_still_lists_a_formula_whose_cached_value_alone_is_missing(tmp_path):
    """O4/O7, issue 8.7: only a workbook with no cached value at all is refused; one missing
    cached value is a difference, as before."""
    path = run(SAMPLES, tmp_path / "out")[0]
    tampered = tamper(path, "xl/worksheets/sheet2.xml", "I2", "<v>3922</v>", "",
                      tmp_path / "tampered.xlsx")
    result = CliRunner().invoke(main, ["verify", str(tampered)])
    assert result.exit_code == 1
    assert result.output.splitlines()[1:] == [
        "  Partners!I2: =IF('Month close'!T2<'Month close'!C2,INDEX(THRESHOLDS,'Month close'!T2),'Month close'!D2)  "
        "cached None, LibreOffice 3922"]


@needs_soffice
def test_verify_quotes_a_sheet_name_as_excel_does(tmp_path):
    """O4/O7, issue 8.7: a difference on the "Month close" sheet reads 'Month close'!D4, the
    reference Excel would accept, not Month close!D4."""
    path = run(SAMPLES, tmp_path / "out")[0]
    tampered = tamper(path, "xl/worksheets/sheet8.xml", "D4", "<v>2374</v>", "<v>2373</v>",
                      tmp_path / "tampered.xlsx")
    result = CliRunner().invoke(main, ["verify", str(tampered)])
    assert result.exit_code == 1
    assert result.output.splitlines()[1:] == [
        "  'Month close'!D4: =MAX(0,Partners!D4+Partners!E4+Partners!F4+Partners!G4+Partners!H4)  "
        "cached 2373, LibreOffice 2374"]


# --- mutation: edit an input cell in the written workbook, recalculate, compare with the engine

PARTNER_HEADERS = ["Partner ID", "Partner Name", "Starting Status", "Opening Points", "Partner Agreement",
                   "NDA", "Certified Engineers", "Certified Sales Specialists", "First Line Support",
                   "Logo On Website", "Product Descriptions On Website"]


def mutation_inbox(folder: Path, amount: float, engineers: int) -> Path:
    """P1, a Business Partner with 400 points, meets every Certified requirement but engineers;
    P2 is there so that rows are not all the first."""
    folder.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Partners"
    sheet.append(PARTNER_HEADERS)
    sheet.append(["P1", "One", "Business", 400, "yes", "yes", engineers, 1, "yes", "yes", "yes"])
    sheet.append(["P2", "Two", "Certified", 800, "yes", "yes", 1, 1, "yes", "yes", "yes"])
    sales = book.create_sheet("Sales")
    sales.append(["Invoice ID", "Partner ID", "Invoice Date", "Amount USD"])
    sales.append(["S1", "P1", date(2025, 1, 10), amount])
    sales.append(["S2", "P2", date(2025, 1, 11), 250])
    book.save(folder / "inbox.xlsx")
    return folder


def engine_partner_row(inbox: Path) -> dict:
    rules = load_rules()
    month = run_engine(read_inbox(inbox, rules), rules).months[0]
    p1 = month.partners[0]
    return {"Sales points": p1.sales_points, "Bonus points": p1.bonus_points,
            "Closing points": p1.closing_points, "Status": rules.levels[p1.rank - 1].name,
            "Change": p1.change or None}


def recalculated_partner_row(workbook: Path, tmp_path: Path) -> dict:
    folder = tmp_path / "recalculated"
    folder.mkdir()
    sheet = openpyxl.load_workbook(recalculate(workbook, folder), data_only=True)["Partners"]
    headers = [c.value for c in sheet[1]]
    row = dict(zip(headers, [c.value for c in sheet[2]]))
    return {key: row[key] for key in ("Sales points", "Bonus points", "Closing points", "Status", "Change")}


def edit_cell(workbook: Path, sheet: str, header: str, value, into: Path) -> Path:
    book = openpyxl.load_workbook(workbook)
    target = book[sheet]
    column = [c.value for c in target[1]].index(header) + 1
    target.cell(row=2, column=column, value=value)
    book.save(into)
    return into


@needs_soffice
def test_o4_mutating_a_sale_amount_moves_points_and_status(tmp_path):
    # Before: $500 -> 50 + 50 = 100 points, 500 in all, but 0 engineers: stays Business.
    written = run(mutation_inbox(tmp_path / "before", 500, 0), tmp_path / "out")[0]
    assert engine_partner_row(tmp_path / "before")["Closing points"] == 500
    mutated = edit_cell(written, "Sales", "Amount USD", 1500, tmp_path / "mutated.xlsx")
    # After: $1,500 -> 150 + 150 = 300 points, 700 in all; what the engine says for that input.
    expected = engine_partner_row(mutation_inbox(tmp_path / "after", 1500, 0))
    assert expected["Closing points"] == 700
    assert recalculated_partner_row(mutated, tmp_path) == expected


@needs_soffice
def test_o4_mutating_a_requirement_cell_moves_the_status(tmp_path):
    written = run(mutation_inbox(tmp_path / "before", 1000, 0), tmp_path / "out")[0]
    # 400 + 100 + 100 = 600 points, but "Certified Bitrix engineers: 0 of 1": Business.
    before = engine_partner_row(tmp_path / "before")
    assert (before["Closing points"], before["Status"]) == (600, "Business Partner")
    mutated = edit_cell(written, "Requirements", "Certified Bitrix engineers", 1, tmp_path / "mutated.xlsx")
    expected = engine_partner_row(mutation_inbox(tmp_path / "after", 1000, 1))
    assert (expected["Status"], expected["Change"]) == ("Certified Partner", "Upgrade")
    assert recalculated_partner_row(mutated, tmp_path) == expected


def test_compare_finds_nothing_when_files_agree(tmp_path):
    path = run(SAMPLES, tmp_path / "out")[0]
    count, differences = compare(path, path)
    assert count > 500 and differences == []


@pytest.mark.parametrize("name, content", [("export.csv", b"a,b\n1,2\n"), ("broken.xlsx", b"PK\x03\x04 not a zip")])
def test_verify_of_a_file_that_is_not_an_xlsx_workbook_is_one_line(tmp_path, name, content):
    """Issue 8.7: no traceback for a file openpyxl cannot open."""
    path = tmp_path / name
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["verify", str(path)])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: {path}: is not an .xlsx workbook (verify checks the "
                                     "workbooks tiersheet writes)")
