"""Partner statements (SPEC O1, O5, I8): one workbook per partner, that partner's data only,
figures as formulas that LibreOffice recalculates to the same values; safe file names and the
index.csv contract that `tiersheet email` reads."""

from __future__ import annotations

import csv
import gc
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tiersheet.cli import main
from tiersheet.config import load_rules
from tiersheet.csvtext import neutral, restored
from tiersheet.engine import run_engine
from tiersheet.filenames import file_stems
from tiersheet.garbage import no_collections
from tiersheet.inbox import read_inbox
from tiersheet.statements import INDEX_HEADER, index_csv, statement_files
from tiersheet.workbook import write_month

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "inbox"
HAVE_SOFFICE = bool(shutil.which("soffice") or shutil.which("libreoffice"))
needs_soffice = pytest.mark.skipif(not HAVE_SOFFICE, reason="LibreOffice is not installed")


def invoke(*args: str, **kwargs):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, **kwargs)


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = invoke("run", str(SAMPLES), "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def read_index(folder: Path) -> list[dict]:
    with open(folder / "index.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == INDEX_HEADER
    return [dict(zip(INDEX_HEADER, row)) for row in rows[1:]]


def statement_facts(path: Path) -> dict[str, object]:
    """Label (column A) -> the cached figure beside it on the Statement sheet (C, else D)."""
    sheet = openpyxl.load_workbook(path, data_only=True)["Statement"]
    facts = {}
    for label, _, figure, words in sheet.iter_rows(min_col=1, max_col=4, values_only=True):
        if isinstance(label, str) and label not in facts:
            facts[label] = figure if figure is not None else words
    return facts


def test_o1_statements_of_the_last_month_one_per_partner(sample_out):
    folder = sample_out / "statements" / "2025-03"
    rows = read_index(folder)
    assert [r["partner_id"] for r in rows] == [f"P{i:03d}" for i in range(1, 14)]
    assert sorted(p.name for p in folder.iterdir()) == sorted([r["file"] for r in rows] + ["index.csv"])
    assert rows[0] == {"partner_id": "P001", "partner_name": "Alpenblick IT GmbH",
                       "email": "partners@alpenblick.example", "file": "P001.xlsx", "pdf": ""}
    book = openpyxl.load_workbook(folder / "P006.xlsx")
    assert book.sheetnames[0] == "Statement"
    assert {"Ledger", "Sales", "Co-op", "Partner", "Requirements", "Month close", "Rules"} <= set(book.sheetnames)


def test_o5_statements_hold_no_other_partners_data(sample_out):
    folder = sample_out / "statements" / "2025-03"
    partners = openpyxl.load_workbook(SAMPLES / "partners.xlsx")["Partners"]
    header = [c.value for c in next(partners.iter_rows(max_row=1))]
    people = {}
    for row in partners.iter_rows(min_row=2, values_only=True):
        record = dict(zip(header, row))
        people.setdefault(record["Partner ID"], set()).update(
            str(record[k]) for k in ("Partner ID", "Partner Name", "Email") if record[k])
    for entry in read_index(folder):
        mine = entry["partner_id"]
        others = set().union(*(words for pid, words in people.items() if pid != mine))
        texts = []
        for data_only in (False, True):  # formulas, then their cached values
            for sheet in openpyxl.load_workbook(folder / entry["file"], data_only=data_only).worksheets:
                texts += [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None]
        blob = "\n".join(texts)
        assert mine in blob
        leaked = [word for word in others if word in blob]
        assert not leaked, f"{entry['file']} holds {leaked}"


def test_o5_hand_computed_figures_of_sample_statements(sample_out):
    folder = sample_out / "statements" / "2025-03"
    # samples/README.md, March: P008 Danube Web, Business Partner, 169 + 64 + 60 = 293 points.
    # Certified needs 500: 207 to next. With the bonus (R4) a sale of A earns trunc(A/10) +
    # 10 x trunc(A/100): $1,070 earns 107 + 100 = 207, $1,069 only 106 + 100 = 206.
    danube = statement_facts(folder / "P008.xlsx")
    assert danube["Status"] == "Business Partner" and danube["Points"] == 293
    assert danube["Points to next"] == 207 and danube["Bonus on your next sale"] == "yes"
    assert danube["Sales to next (USD)"] == 1070
    assert danube["Margin"] == 0.4
    assert danube["Missing for Certified Partner"].startswith("Certified Bitrix engineers: 0 of 1")
    # P002 Nordwind, Certified since its February downgrade, closes March at 500 + 99 = 599:
    # 2,000 - 599 = 1,401 to Gold, no bonus above Business: 1 point per $10 -> $14,010.
    nordwind = statement_facts(folder / "P002.xlsx")
    assert nordwind["Status"] == "Certified Partner" and nordwind["Points"] == 599
    assert nordwind["Points to next"] == 1401 and nordwind["Bonus on your next sale"] == "no"
    assert nordwind["Sales to next (USD)"] == 14010
    assert nordwind["Margin"] == 0.45 and nordwind["Certificate expires"].date() == date(2026, 2, 28)
    # Its co-op claim COOP-2503-03: $900 expense, $450 requested -> $450 (R15).
    sheet = openpyxl.load_workbook(folder / "P002.xlsx", data_only=True)["Statement"]
    claims = [row for row in sheet.iter_rows(values_only=True) if row[1] == "COOP-2503-03"]
    assert claims and claims[0][2] == 450
    # P013 Atlas upgrades to Gold in March (2,798 points): nothing above Gold.
    atlas = statement_facts(folder / "P013.xlsx")
    assert atlas["Status"] == "Gold Certified Partner" and atlas["Change this month"] == "Upgrade"
    assert atlas["Next status"] == "none: Gold Certified Partner is the highest status"


def test_o5_points_lines_add_up_to_the_closing_points(sample_out):
    # P011 Nordic Pixel, March: 109 opening + 499 sale + 490 bonus = 1,098 (samples/README.md).
    sheet = openpyxl.load_workbook(sample_out / "statements" / "2025-03" / "P011.xlsx", data_only=True)["Statement"]
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[:4] == ("Date", "Source", "Points", "Explanation"))
    end = next(i for i, row in enumerate(rows) if row[0] == "Closing points" and i > start)
    assert [(row[1], row[2]) for row in rows[start + 1:end]] == [
        ("Opening balance", 109), ("Sale", 499), ("Early-adopter bonus", 490)]
    assert rows[end][2] == 1098
    assert rows[start + 2][3] == "INV-2503-006: sale of 4,990.00 USD, 1 point per 10 USD"


def test_o5_rules_sheet_holds_only_the_parameters_the_formulas_use(sample_out):
    book = openpyxl.load_workbook(sample_out / "statements" / "2025-03" / "P008.xlsx")
    formulas = "\n".join(str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows()
                         for cell in row if cell.data_type == "f")
    names = set(book.defined_names)
    assert {"USD_PER_POINT", "BONUS_POINTS", "CERT_MONTHS", "LEVEL_NAMES"} <= names
    assert "COOP_SHARE" not in names and "FIRST_SALE_DISCOUNT" in names  # no claims; a sale
    ranges = {"LEVEL_NAMES": "LEVEL_", "THRESHOLDS": "THRESHOLD_", "MARGINS": "MARGIN_"}
    for name in names:
        used = name in formulas or any(name.startswith(prefix) and r in formulas for r, prefix in ranges.items())
        assert used, f"{name} is on the Rules sheet but no formula uses it"


@pytest.fixture(scope="module")
def every_month(tmp_path_factory):
    """The samples' statements of all three months."""
    out = tmp_path_factory.mktemp("all")
    result = invoke("run", str(SAMPLES), "--out", str(out), "--statements", "all", "-q")
    assert result.exit_code == 0, result.output
    return out / "statements"


def statement_rows(path: Path) -> list[tuple]:
    sheet = openpyxl.load_workbook(path, data_only=True)["Statement"]
    return [row[:4] for row in sheet.iter_rows(values_only=True)]


def section(rows: list[tuple], title: str) -> list[tuple]:
    """The rows under a Statement heading that starts with `title`, up to the next blank row."""
    start = next(i for i, row in enumerate(rows) if isinstance(row[0], str) and row[0].startswith(title))
    end = next((i for i in range(start + 1, len(rows)) if rows[i] == (None,) * 4), len(rows))
    return rows[start + 1:end]


def test_r10_o5_a_lapsed_certificate_says_it_lapsed(every_month):
    # samples/README.md: P010 Vltava, Business Partner without an NDA, is at risk from January;
    # its certificate expires on 2025-03-05, so it lapses at the March close and stays Business.
    february = statement_facts(every_month / "2025-02" / "P010.xlsx")
    assert february["Certificate expires"].date() == date(2025, 3, 5)
    words = dict((row[0], row[3]) for row in statement_rows(every_month / "2025-02" / "P010.xlsx"))
    assert words["Certificate expires"] == "It lapses unless you meet the Business Partner requirements by then."
    march = statement_rows(every_month / "2025-03" / "P010.xlsx")
    expired = [row for row in march if row[0] == "Certificate expired"]
    assert expired and expired[0][2].date() == date(2025, 3, 5)
    assert expired[0][3].startswith("Lapsed: you did not meet the Business Partner requirements when it expired.")
    assert not [row for row in march if row[0] == "Certificate expires"]
    facts = statement_facts(every_month / "2025-03" / "P010.xlsx")
    assert facts["Change this month"] == "Lapsed" and facts["Status"] == "Business Partner"


def test_o5_the_highest_status_has_no_way_up_figures(every_month):
    # P013 Atlas is Gold from March: no next status, so no points or sales to it, no bonus line.
    facts = statement_facts(every_month / "2025-03" / "P013.xlsx")
    assert facts["Next status"] == "none: Gold Certified Partner is the highest status"
    assert not {"Points to next", "Bonus on your next sale", "Sales to next (USD)"} & set(facts)
    assert {"Points to next", "Sales to next (USD)"} <= set(statement_facts(every_month / "2025-02" / "P013.xlsx"))


def test_r13_r14_r16_nfr_leads_and_benefits_on_the_statement(every_month):
    rules = load_rules()
    # R14, samples/README.md: P001 is given LD-2501-01, -05 and -06 in January.
    rows = statement_rows(every_month / "2025-01" / "P001.xlsx")
    leads = section(rows, "Leads given to you in January 2025 (R14)")
    assert leads[0] == ("Received on", "Lead ID", "Territory", "Company and contact")
    assert [(row[0].date(), row[1], row[2]) for row in leads[1:]] == [
        (date(2025, 1, 8), "LD-2501-01", "DE"), (date(2025, 1, 27), "LD-2501-05", "DE"),
        (date(2025, 1, 30), "LD-2501-06", "AT")]
    assert leads[1][3] == "Brauhaus Sommer KG / Petra Sommer"
    # A Business Partner is told where leads go.
    business = statement_rows(every_month / "2025-01" / "P008.xlsx")
    assert section(business, "Leads given")[0][0] == "none this month (leads go to Gold Certified Partners)"
    # R13: P006's InfoPace NFR, entitled on 2025-01-20, to issue.
    nfr = section(statement_rows(every_month / "2025-01" / "P006.xlsx"), "Your NFR licences (R13)")
    assert [(row[0].date(), row[1], row[3]) for row in nfr[1:]] == [
        (date(2025, 1, 20), "To issue", "Bitrix Intranet: InfoPace Edition")]
    # R16: the benefits of its level from the rules file, and what the next level adds.
    business_level, certified = rules.levels[0], rules.levels[1]
    mine = section(business, "Your benefits as Business Partner")
    assert [row[0] for row in mine] == [f"\u2022  {b}" for b in business_level.benefits]
    adds = section(business, "What Certified Partner adds")
    assert [row[0] for row in adds] == [f"\u2022  {b}" for b in certified.benefits if b not in business_level.benefits]
    assert adds and all(row[0][3:] not in business_level.benefits for row in adds)


def test_o5_a_statement_is_laid_out_for_a_person(every_month):
    book = openpyxl.load_workbook(every_month / "2025-03" / "P008.xlsx")
    page = book["Statement"]
    assert page.freeze_panes == "A3"  # title and partner stay in view
    assert [int(page.column_dimensions[c].width) for c in "ABCD"] == [14, 26, 14, 64]  # + padding
    setup = page.page_setup
    fit_width = 1 if setup.fitToWidth is None else setup.fitToWidth  # 1 is OOXML's default, left out
    assert (setup.orientation, setup.paperSize, fit_width, setup.fitToHeight) == ("portrait", 9, 1, 0)
    assert page.sheet_properties.pageSetUpPr.fitToPage
    assert "Danube Web Kft. (P008)" in page.oddHeader.left.text
    assert "Partner statement, March 2025" in page.oddHeader.right.text
    assert page.print_area  # the statement, not the empty sheet around it
    labels = openpyxl.load_workbook(every_month / "2025-03" / "P008.xlsx", data_only=True)["Statement"]
    formats = {labels.cell(row[0].row, 1).value: row[2].number_format
               for row in page.iter_rows(max_col=3) if row[2].value is not None}
    assert formats["Points"] == "#,##0" and formats["Margin"] == "0%"
    assert formats["Certificate expires"] == "yyyy-mm-dd"
    for name in ("Ledger", "Sales", "Partner", "Rules"):
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name  # the header row stays in view
        assert "Danube Web Kft. (P008)" in sheet.oddHeader.left.text, name
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToHeight == 0, name
    ledger = book["Ledger"]
    header = [cell.value for cell in ledger[1]]
    first = [cell for cell in ledger[2]]
    assert first[header.index("Date")].number_format == "yyyy-mm-dd"
    assert first[header.index("Points")].number_format == "#,##0"


def test_o5_no_formula_uses_a_name_the_rules_sheet_lacks(every_month):
    from openpyxl.formula import Tokenizer
    import re

    reference = re.compile(r"^(?:'[^']+'|[A-Za-z ]+)?!?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?$")
    checked = 0
    for path in sorted(every_month.glob("*/*.xlsx")):
        book = openpyxl.load_workbook(path)
        names = set(book.defined_names)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type != "f":
                        continue
                    checked += 1
                    for token in Tokenizer(cell.value).items:
                        if token.type == "OPERAND" and token.subtype == "RANGE" and "!" not in token.value \
                                and not reference.match(token.value):
                            assert token.value in names, f"{path.name} {sheet.title}!{cell.coordinate} uses {token.value}"
    assert checked > 2000


@needs_soffice
def test_o4_every_sample_statement_recalculates_to_the_same_values(sample_out):
    from tiersheet.verify import verify

    for path in sorted((sample_out / "statements" / "2025-03").glob("*.xlsx")):
        result = verify(path)
        assert result.formulas > 50
        assert result.differences == [], path.name


def test_o1_statements_none_and_all(tmp_path):
    none = tmp_path / "none"
    assert invoke("run", str(SAMPLES), "--out", str(none), "--statements", "none", "-q").exit_code == 0
    assert not (none / "statements").exists()
    every = tmp_path / "all"
    result = invoke("run", str(SAMPLES), "--out", str(every), "--statements", "all")
    assert result.exit_code == 0
    assert sorted(p.name for p in (every / "statements").iterdir()) == ["2025-01", "2025-02", "2025-03"]
    assert len(read_index(every / "statements" / "2025-01")) == 12  # P011 joins in February
    assert "wrote 13 partner statements in" in result.output


HOSTILE = ["../../x", "CON", "a/b", "a:b", "a_b", "***", "nul.txt", "P1", "p1", "=1+1", "-cmd", ".hidden"]


def test_i8_hostile_partner_ids_each_get_their_own_file_inside_the_folder(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    book = openpyxl.Workbook()
    partners = book.active
    partners.title = "Partners"
    partners.append(["Partner ID", "Partner Name", "Email", "Partner Agreement", "NDA"])
    for i, pid in enumerate(HOSTILE):
        partners.append([pid, f"=HYPERLINK(\"x\") {i}" if i == 0 else f"Name {i}", f"p{i}@example.com; boss{i}@example.com",
                         "yes", "yes"])
    sales = book.create_sheet("Sales")
    sales.append(["Invoice ID", "Partner ID", "Invoice Date", "Amount USD"])
    for i, pid in enumerate(HOSTILE):
        sales.append([f"S{i}", pid, date(2025, 1, 5), 100 + i])
    for sheet in (partners, sales):
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text in the input, not a formula
    book.save(inbox / "export.xlsx")
    out = tmp_path / "out"
    result = invoke("run", str(inbox), "--out", str(out))
    assert result.exit_code == 0, result.output
    folder = out / "statements" / "2025-01"
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.parent != out)
    assert all(p.parent == folder for p in files)  # nothing escaped, nothing elsewhere
    rows = read_index(folder)
    ids = [neutral(pid) for pid in HOSTILE]
    assert sorted(r["partner_id"] for r in rows) == sorted(ids)
    names = [r["file"] for r in rows]
    assert len({n.casefold() for n in names}) == len(HOSTILE)  # each its own file, whatever the case
    assert sorted(names + ["index.csv"]) == sorted(p.name for p in files)
    for r in rows:
        assert Path(r["file"]).name == r["file"] and not r["file"].startswith((".", "-"))
        statement = openpyxl.load_workbook(folder / r["file"])["Partner"]
        assert neutral(str(statement["A2"].value)) == r["partner_id"]  # the file is that partner's
    first = next(r for r in rows if r["partner_id"] == "../../x")
    assert first["partner_name"].startswith("'=HYPERLINK")  # I8: not a formula in Excel
    assert first["email"] == "p0@example.com; boss0@example.com"


def test_i8_index_csv_neutralises_formula_text():
    assert neutral("=SUM(A1)") == "'=SUM(A1)" and neutral("+49 30") == "'+49 30"
    assert neutral("-1") == "'-1" and neutral("@home") == "'@home" and neutral("  =x") == "'  =x"
    assert neutral("\tx") == "'\tx" and neutral("ACME, Inc.") == "ACME, Inc."
    assert neutral("'quoted") == "''quoted"  # so that reading back strips exactly one quote
    for text in ("=SUM(A1)", "'=x", "''", "plain", " -2", "@", ""):
        assert restored(neutral(text)) == text
    text = index_csv([["P1", 'A "quoted", name', "a@x.example, b@x.example", "P1.xlsx", ""]])
    assert text.splitlines() == ["partner_id,partner_name,email,file,pdf",
                                 'P1,"A ""quoted"", name","a@x.example, b@x.example",P1.xlsx,']


@needs_soffice
def test_o5_pdf_copies_beside_the_statements(tmp_path, monkeypatch):
    """In batches of 5, two LibreOffice processes at a time (--jobs 2): every statement gets its PDF."""
    from tiersheet import statements
    monkeypatch.setattr(statements, "PDF_BATCH", 5)
    out = tmp_path / "out"
    result = invoke("run", str(SAMPLES), "--out", str(out), "--pdf", "--jobs", "2", "-q")
    assert result.exit_code == 0, result.output
    folder = out / "statements" / "2025-03"
    rows = read_index(folder)
    assert len(rows) > 10 and len(list(folder.glob("*.pdf"))) == len(rows)
    for row in rows:
        assert row["pdf"] == row["file"].replace(".xlsx", ".pdf")
        assert (folder / row["pdf"]).read_bytes().startswith(b"%PDF")


def test_o5_pdf_without_libreoffice_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.delenv("TIERSHEET_SOFFICE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    result = invoke("run", str(SAMPLES), "--out", str(tmp_path / "out"), "--pdf")
    assert result.exit_code == 2
    assert "LibreOffice is not installed" in result.output
    assert not (tmp_path / "out").exists()


def test_o9_written_workbooks_leave_nothing_for_the_cycle_collector(tmp_path):
    """A month's ten thousand statements are freed as each is written, by reference counting:
    a reference cycle (xlsxwriter's worksheets hold their workbook's add_format) left every
    closed workbook to the cyclic garbage collector, which then cost 1.4 ms a statement."""
    rules = load_rules()
    result = run_engine(read_inbox(SAMPLES, rules), rules)
    month = result.months[-1]
    gc.collect()
    gc.disable()
    try:
        written = list(statement_files(tmp_path, month, file_stems(p.partner_id for p in month.partners)))
        write_month(tmp_path / "month.xlsx", month, result, "inbox", "default")
        assert len(written) == len(month.partners) == 13
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_o9_writing_a_workbook_turns_the_cycle_collector_off_and_back_on():
    """Workbooks are written with the collector off (nothing for it to find, see above), and
    it is on again afterwards, also when the writing fails."""
    assert gc.isenabled()
    with no_collections():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), no_collections():
        1 / 0
    assert gc.isenabled()
    gc.disable()
    try:
        with no_collections():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
