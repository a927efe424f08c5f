"""R18 rules over time: a rules file's [[version]] tables, each month computed under the version
in force, earlier months' workbooks byte-identical, and errors that name the version and key.
Every figure is computed by hand in the comment beside it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")

from click.testing import CliRunner  # noqa: E402

from tiersheet.cli import main  # noqa: E402
from tiersheet.config import RulesError, default_rules_path, load_rule_book  # noqa: E402
from tiersheet.engine import run_engine  # noqa: E402
from tiersheet.inbox import read_inbox  # noqa: E402
from tiersheet.verify import verify  # noqa: E402
from tiersheet.whatif import what_if  # noqa: E402
from test_rules import MEETS_BUSINESS, MEETS_CERTIFIED, line, month_of, partner, pm, sale, write_inbox  # noqa: E402

D = dt.date
VERSION_3 = '''
[[version]]
from = "2025-03"
[version.levels.certified]
threshold = 250
[version.levels.business]
margin = 0.42
'''


def rules_file(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rules.toml"
    path.write_text(default_rules_path().read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def inbox(folder: Path) -> Path:
    write_inbox(folder, partners=[partner("P1", "Business", 0, reqs=MEETS_CERTIFIED),
                                  partner("P2", "Business", 0, reqs=MEETS_BUSINESS)],
                sales=[sale("I1", "P1", D(2025, 1, 10), 1500), sale("I2", "P2", D(2025, 2, 10), 1000),
                       sale("I3", "P1", D(2025, 3, 10), 100), sale("I4", "P2", D(2025, 3, 12), 1000),
                       sale("I5", "P1", D(2025, 4, 10), 1000)])
    return folder


def test_r18_version_from_month_3_changes_certified_threshold_and_business_margin(tmp_path):
    book = load_rule_book(rules_file(tmp_path, VERSION_3))
    result = run_engine(read_inbox(inbox(tmp_path / "inbox"), book.base), book)
    assert [m.rules.version for m in result.months] == [0, 0, 1, 1]
    # P1, Business: Jan $1,500 = 150 + bonus 10 x 15 = 150 -> 300 points. Feb: 300 reaches the
    # new 250 already, but the version starts in March: still Business under the 500 of Feb.
    assert (pm(result, "2025-02", "P1").closing_points, pm(result, "2025-02", "P1").rank) == (300, 1)
    # Mar: $100 = 10 + 10 -> 320 >= 250, meets Certified -> Upgrade
    mar = pm(result, "2025-03", "P1")
    assert (mar.closing_points, mar.rank, mar.change) == (320, 2, "Upgrade")
    # Business margin: Feb 40% of $1,000 = 400; Mar 42% of $1,000 = 420, partner cost 580
    feb_sale = line(month_of(result, "2025-02").sales, "invoice_id", "I2")
    assert (feb_sale["margin_pct"], feb_sale["margin_usd"]) == (0.40, 400)
    mar_sale = line(month_of(result, "2025-03").sales, "invoice_id", "I4")
    assert (mar_sale["margin_pct"], mar_sale["margin_usd"], mar_sale["partner_cost_usd"]) == (0.42, 420, 580)
    # Apr: P1 Certified (45%, unchanged): $1,000 = 100 points, no bonus -> 420; next is Gold
    apr = pm(result, "2025-04", "P1")
    assert (apr.bonus_points, apr.closing_points, apr.rank) == (0, 420, 2)
    assert line(month_of(result, "2025-04").sales, "invoice_id", "I5")["margin_usd"] == 450


def run_cli(folder: Path, inbox_folder: Path, monkeypatch) -> Path:
    """Run with the rules file named "rules.toml" from its own folder, so both runs cite the
    same rules file name and differ only in what it holds."""
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(main, ["run", str(inbox_folder), "--out", "out", "--rules", "rules.toml",
                                       "--statements", "all", "-q"])
    assert result.exit_code == 0, result.output
    return folder / "out"


def test_r18_months_before_the_version_are_byte_identical(tmp_path, monkeypatch):
    folder = inbox(tmp_path / "inbox")
    rules_file(tmp_path / "plain")
    rules_file(tmp_path / "versioned", VERSION_3)
    plain = run_cli(tmp_path / "plain", folder, monkeypatch)
    versioned = run_cli(tmp_path / "versioned", folder, monkeypatch)
    for month in ("2025-01", "2025-02"):
        assert (plain / f"tiersheet-{month}.xlsx").read_bytes() == (versioned / f"tiersheet-{month}.xlsx").read_bytes()
        for statement in sorted((plain / "statements" / month).iterdir()):
            assert statement.read_bytes() == (versioned / "statements" / month / statement.name).read_bytes()
    for month in ("2025-03", "2025-04"):
        assert (plain / f"tiersheet-{month}.xlsx").read_bytes() != (versioned / f"tiersheet-{month}.xlsx").read_bytes()
    # the Rules sheet says which version, from when and what it changed; its parameters are the new ones
    rules = openpyxl.load_workbook(versioned / "tiersheet-2025-03.xlsx")["Rules"]
    rows = {r[1]: (r[0], r[2], r[3]) for r in rules.iter_rows(min_row=2, values_only=True) if r[1]}
    assert rows["Rules version in force"] == ("R18", "version 1, from 2025-03",
                                              "changed: levels.certified.threshold = 250; levels.business.margin = 0.42")
    assert (rows["THRESHOLD_CERTIFIED"][1], rows["MARGIN_BUSINESS"][1]) == (250, 0.42)
    feb = openpyxl.load_workbook(versioned / "tiersheet-2025-02.xlsx")["Rules"]
    rows = {r[1]: r[2] for r in feb.iter_rows(min_row=2, values_only=True) if r[1]}
    assert rows["THRESHOLD_CERTIFIED"] == 500
    assert rows["Rules version in force"] == "the rules file's own tables (no [[version]] in force)"
    partners = openpyxl.load_workbook(versioned / "tiersheet-2025-03.xlsx", data_only=True)["Partners"]
    p1 = next(r for r in partners.iter_rows(min_row=2, values_only=True) if r[0] == "P1")
    assert (p1[9], p1[10]) == ("Certified Partner", "Upgrade")
    if shutil.which("soffice") or shutil.which("libreoffice"):
        for path in [versioned / f"tiersheet-{m}.xlsx" for m in ("2025-02", "2025-03", "2025-04")] + \
                sorted((versioned / "statements" / "2025-03").glob("*.xlsx")):
            assert verify(path).differences == [], path.name


def test_r18_whatif_answers_under_the_version_of_its_month(tmp_path):
    book = load_rule_book(rules_file(tmp_path, VERSION_3))
    data = read_inbox(inbox(tmp_path / "inbox"), book.base)
    # Feb under the file's own tables: P1 has 300, 200 short of 500; a $1,000 sale at Business
    # earns 100 + 100 = 200 -> 500, Certified. Mar under version 1 it is Certified already.
    month, before, after = what_if(data, book, "P1", D(2025, 2, 1), sales=(1000.0,))
    assert (before.status, before.points_to_next, after.status) == ("Business Partner", 200, "Certified Partner")
    month, before, _ = what_if(data, book, "P1", D(2025, 3, 1))
    assert (before.status, before.closing_points) == ("Certified Partner", 320)


@pytest.mark.parametrize("extra, message", [
    ('\n[[version]]\nfrom = "2025-3"\n[version.points]\nusd_per_point = 5\n',
     "[[version]] 1: key 'from' must be a month written YYYY-MM, not '2025-3'"),
    ('\n[[version]]\nfrom = "2025-03"\n[version.levels.silver]\nthreshold = 100\n',
     "[[version]] 1 (from 2025-03): unknown key 'levels.silver' (levels: business, certified, gold)"),
    ('\n[[version]]\nfrom = "2025-03"\n[version.bonus]\npointz = 5\n',
     "[[version]] 1 (from 2025-03): unknown key 'bonus.pointz'"),
    ('\n[[version]]\nfrom = "2025-03"\n[version.levels.gold]\nname = "Platinum"\n',
     "[[version]] 1 (from 2025-03): key 'levels.gold.name' cannot change in a version"),
    ('\n[[version]]\nfrom = "2025-03"\n[version.points]\nusd_per_point = "ten"\n',
     "[[version]] 1 (from 2025-03): key 'points.usd_per_point' must be a number, not 'ten'"),
    ('\n[[version]]\nfrom = "2025-03"\n[version.points]\nusd_per_point = 5\n'
     '[[version]]\nfrom = "2025-02"\n[version.points]\nusd_per_point = 4\n',
     "[[version]] 2 (from 2025-02): key 'from' must come after the version before it (2025-03)"),
])
def test_r18_errors_name_the_version_and_the_key(tmp_path, extra, message):
    with pytest.raises(RulesError) as error:
        load_rule_book(rules_file(tmp_path, extra))
    assert message in str(error.value)


def test_r18_later_versions_change_what_earlier_ones_left(tmp_path):
    book = load_rule_book(rules_file(tmp_path, VERSION_3 + '\n[[version]]\nfrom = "2025-06"\n'
                                                         '[version.levels.certified]\nmargin = 0.47\n'))
    june = book.for_month(D(2025, 6, 1))
    # version 2 keeps version 1's threshold and Business margin, and changes Certified's margin
    assert ([lv.threshold for lv in june.levels], [lv.margin for lv in june.levels]) == (
        [0, 250, 2000], [0.42, 0.47, 0.50])
    assert june.version_changes == ("levels.certified.margin = 0.47",)
    assert book.for_month(D(2025, 5, 1)).version == 1 and book.for_month(D(2024, 12, 1)).version == 0


def test_r6_a_requirement_key_with_no_partners_column_is_an_error(tmp_path):
    path = rules_file(tmp_path, '\n[requirements.iso_9001]\nlabel = "ISO 9001"\nkind = "yes"\n')
    with pytest.raises(RulesError) as error:
        load_rule_book(path)
    assert "key 'requirements.iso_9001': no partners column 'iso_9001'" in str(error.value)


SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_r18_samples_rules_version_is_the_packaged_rules_plus_one_version(tmp_path, monkeypatch):
    """samples/rules-2025-03.toml (README): the packaged rules with a version from March 2025.
    February stays byte-identical; in March P007's $1,490 earns 42%: $625.80, not 40%: $596."""
    text = (SAMPLES / "rules-2025-03.toml").read_text(encoding="utf-8")
    packaged = default_rules_path().read_text(encoding="utf-8")
    assert text.startswith(packaged) and "\n[[version]]" in text[len(packaged):]
    (tmp_path / "versioned").mkdir()
    (tmp_path / "versioned" / "rules.toml").write_text(text, encoding="utf-8")
    rules_file(tmp_path / "plain")
    plain = run_cli(tmp_path / "plain", SAMPLES / "inbox", monkeypatch)
    versioned = run_cli(tmp_path / "versioned", SAMPLES / "inbox", monkeypatch)
    for month in ("2025-01", "2025-02"):
        assert (plain / f"tiersheet-{month}.xlsx").read_bytes() == (versioned / f"tiersheet-{month}.xlsx").read_bytes()
    sales = openpyxl.load_workbook(versioned / "tiersheet-2025-03.xlsx", data_only=True)["Sales"]
    headers = [c.value for c in sales[1]]
    row = next(dict(zip(headers, r)) for r in sales.iter_rows(min_row=2, values_only=True) if r[0] == "INV-2503-005")
    assert (row["Partner ID"], row["Amount USD"], row["Margin %"], row["Margin USD"]) == ("P007", 1490, 0.42, 625.8)
