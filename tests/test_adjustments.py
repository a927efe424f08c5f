"""R17 adjustments and O5's sales to next on the Partners sheet: hand-computed scenarios, read
back from real workbooks, and recalculated in LibreOffice where it is installed."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")

from click.testing import CliRunner  # noqa: E402

from tiersheet.cli import main  # noqa: E402
from tiersheet.config import load_rules  # noqa: E402
from tiersheet.engine import run_engine  # noqa: E402
from tiersheet.inbox import read_inbox  # noqa: E402
from tiersheet.verify import verify  # noqa: E402
from test_rules import MEETS_BUSINESS, MEETS_CERTIFIED, partner, pm, sale, write_inbox  # noqa: E402

D = dt.date
ADJUSTMENT_HEADERS = ["Adjustment ID", "Partner ID", "Date", "Points", "Status", "Until", "Reason",
                      "Approved By"]
needs_soffice = pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                                   reason="LibreOffice is not installed")


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def write_adjustments(folder: Path, rows) -> None:
    """An adjustments workbook beside the inbox's other sheets (R17 is its own input kind)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Adjustments"
    ws.append(ADJUSTMENT_HEADERS)
    for row in rows:
        ws.append(list(row))
    wb.save(folder / "adjustments.xlsx")


def scenario(folder: Path) -> None:
    """P1 lifted over Certified's threshold, P2 taken below zero, H1 held at Certified past its
    certificate's expiry while H2, the same partner without the adjustment, goes down."""
    write_inbox(folder, partners=[
        partner("P1", "Business", 0, reqs=MEETS_CERTIFIED),
        partner("P2", "Business", 300, reqs=MEETS_CERTIFIED),
        partner("H1", "Certified", 800, D(2024, 3, 10), MEETS_BUSINESS),
        partner("H2", "Certified", 800, D(2024, 3, 10), MEETS_BUSINESS),
    ], sales=[sale("I1", "P1", D(2025, 1, 10), 2000)])
    write_adjustments(folder, [
        ["ADJ1", "P1", D(2025, 1, 20), 150, None, None, "seminar credited late", "M. Keller"],
        ["ADJ2", "P2", D(2025, 1, 21), -400, None, None, "duplicate activity reversed", "M. Keller"],
        ["ADJ3", "H1", D(2025, 1, 15), None, "certified", "2026-03", "grace period while engineers re-certify",
         "Head of channel"],
    ])


def test_r17_points_adjustment_lifts_over_threshold_and_negative_stops_at_zero(tmp_path, rules):
    scenario(tmp_path / "inbox")
    inbox = read_inbox(tmp_path / "inbox", rules)
    assert [str(p) for p in inbox.problems if p.is_problem] == []
    result = run_engine(inbox, rules, through=D(2025, 3, 1))
    p1 = pm(result, "2025-01", "P1")
    # $2,000 at Business: 200 points + bonus 10 x 20 = 200; + 150 adjusted = 550 >= 500 -> Certified
    assert (p1.sales_points, p1.bonus_points, p1.adjustment_points, p1.closing_points) == (200, 200, 150, 550)
    assert (p1.rank, p1.change) == (2, "Upgrade")
    # without ADJ1 it would have been 400 < 500: the adjustment counts toward R8
    p2 = pm(result, "2025-01", "P2")
    # 300 - 400 = -100 -> the balance stops at 0 (R3)
    assert (p2.adjustment_points, p2.points_before, p2.closing_points, p2.rank) == (-400, 0, 0, 1)


def test_r17_status_override_holds_the_level_until_then_the_downgrade_happens(tmp_path, rules):
    scenario(tmp_path / "inbox")
    result = run_engine(read_inbox(tmp_path / "inbox", rules), rules, through=D(2026, 3, 1))
    # Jan 2025: ADJ3 sets Certified; a certificate is issued 2025-01-31, valid to 2026-01-31
    h1 = pm(result, "2025-01", "H1")
    assert (h1.override_rank, h1.rank, h1.change, h1.closing_points) == (2, 2, "Renewed", 800)
    assert h1.certificate_expires == D(2026, 1, 31)
    assert h1.override_note == ("Certified Partner: grace period while engineers re-certify (approved by "
                                "Head of channel; ADJ3, held until the close of 2026-03)")
    # H2 has no adjustment: its certificate (2024-03-10 + 12 months) expires in March 2025,
    # it fails Certified and goes down to Business with 0 points (R10)
    h2 = pm(result, "2025-03", "H2")
    assert (h2.rank, h2.change, h2.closing_points) == (1, "Downgrade", 0)
    assert pm(result, "2025-03", "H1").rank == 2
    # Jan 2026: H1's certificate expires failing Certified, but the level is held until 2026-03
    jan = pm(result, "2026-01", "H1")
    assert (jan.held_until, jan.rank, jan.change, jan.downgrade) == (D(2026, 3, 1), 2, "Lapsed", False)
    assert (pm(result, "2026-02", "H1").rank, pm(result, "2026-02", "H1").change) == (2, "")
    # Mar 2026: the hold ends at this close: downgraded to Business, points 800 -> 0
    mar = pm(result, "2026-03", "H1")
    assert (mar.rank, mar.change, mar.closing_points, mar.certificate_expires) == (1, "Downgrade", 0, D(2027, 3, 31))


def test_r17_adjustment_without_reason_or_approver_is_rejected(tmp_path, rules):
    folder = tmp_path / "inbox"
    write_inbox(folder, partners=[partner("P1")], sales=[sale("I1", "P1", D(2025, 1, 10), 100)])
    write_adjustments(folder, [
        ["ADJ1", "P1", D(2025, 1, 20), 100, None, None, None, "M. Keller"],
        ["ADJ2", "P1", D(2025, 1, 20), 100, None, None, "goodwill", None],
        ["ADJ3", "P1", D(2025, 1, 20), None, None, None, "goodwill", "M. Keller"],
        ["ADJ4", "P1", D(2025, 1, 20), 100, None, "2025-04", "goodwill", "M. Keller"],
    ])
    inbox = read_inbox(folder, rules)
    problems = {(p.row, p.column): p.message for p in inbox.problems if p.is_problem}
    assert problems == {
        (2, "Reason"): "is empty but required: fill it in",
        (3, "Approved By"): "is empty but required: fill it in",
        (4, "Points"): "an adjustment needs points, a status or both: fill in what it corrects",
        (5, "Until"): "until holds a status: fill in the status, or clear until",
    }
    assert len(inbox.adjustments) == 0
    report = next(r for r in inbox.reports if r.sheet == "Adjustments")
    assert (report.rows_read, report.accepted, report.rejected) == (4, 0, 4)
    assert pm(run_engine(inbox, rules), "2025-01", "P1").closing_points == 20  # 10 + bonus 10


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("adjustments")
    scenario(root / "inbox")
    out = root / "out"
    result = CliRunner().invoke(main, ["run", str(root / "inbox"), "--out", str(out), "--through", "2026-03",
                                       "--statements", "all"])
    assert result.exit_code == 0, result.output
    return out


def test_r17_workbook_partners_month_close_and_ledger_show_adjustments(written):
    wb = openpyxl.load_workbook(written / "tiersheet-2025-01.xlsx")
    values = openpyxl.load_workbook(written / "tiersheet-2025-01.xlsx", data_only=True)
    ws, vs = wb["Partners"], values["Partners"]
    headers = [c.value for c in ws[1]]
    assert headers[6:9] == ["Activity points", "Adjustment points", "Closing points"]   # O2
    assert headers[-1] == "Sales to next (USD)"
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    col = {h: i + 1 for i, h in enumerate(headers)}
    p1 = rows["P1"]
    assert ws.cell(p1, col["Adjustment points"]).value.startswith("=SUM(Adjustments!")
    assert vs.cell(p1, col["Adjustment points"]).value == 150
    assert vs.cell(p1, col["Closing points"]).value == 550
    assert vs.cell(rows["P2"], col["Closing points"]).value == 0
    close, cv = wb["Month close"], values["Month close"]
    close_col = {c.value: i + 1 for i, c in enumerate(close[1])}
    h1 = next(r for r in range(2, close.max_row + 1) if close.cell(r, 1).value == "H1")
    assert close.cell(h1, close_col["Override level (R17)"]).value.startswith("=MATCH(Adjustments!")
    assert cv.cell(h1, close_col["Override level (R17)"]).value == 2
    assert cv.cell(h1, close_col["Override and its reason"]).value.startswith(
        "Certified Partner: grace period while engineers re-certify")
    ledger = values["Ledger"]
    moves = [(r[0].value, r[2].value, r[5].value) for r in ledger.iter_rows(min_row=2)]
    assert ("P1", "Adjustment", 150) in moves and ("P2", "Adjustment", -400) in moves
    assert ("P2", "Month close", 100) in moves        # R3: -100 brought back to 0
    # O5: P2 at Business with 0 points needs 500: with the bonus, $2,500 earns 250 + 250
    assert vs.cell(rows["P2"], col["Sales to next (USD)"]).value == 2500
    # Feb 2026: H1 held, its Month close says so
    feb = openpyxl.load_workbook(written / "tiersheet-2026-02.xlsx", data_only=True)["Month close"]
    h1 = next(r for r in range(2, feb.max_row + 1) if feb.cell(r, 1).value == "H1")
    assert feb.cell(h1, close_col["Held: no downgrade"]).value is True


def test_r17_statement_lists_the_adjustment_among_the_points(written):
    sheet = openpyxl.load_workbook(written / "statements" / "2025-01" / "P1.xlsx", data_only=True)["Statement"]
    texts = [" ".join(str(c.value) for c in row if c.value is not None) for row in sheet.iter_rows()]
    assert any("Adjustment" in t and "150" in t and "seminar credited late" in t for t in texts)


@needs_soffice
def test_r17_workbooks_with_adjustments_recalculate_in_libreoffice(written):
    books = [written / f"tiersheet-{m}.xlsx" for m in ("2025-01", "2026-01", "2026-02", "2026-03")]
    books += [written / "statements" / "2025-01" / f"{pid}.xlsx" for pid in ("P1", "P2", "H1")]
    for path in books:
        checked = verify(path)
        assert checked.differences == [], (path.name, checked.differences[:3])


def test_r17_o10_whatif_sees_the_adjustments(tmp_path, rules):
    from tiersheet.whatif import what_if

    scenario(tmp_path / "inbox")
    data = read_inbox(tmp_path / "inbox", rules)
    # P1 closes January at 550 with ADJ1's 150 (Certified); Gold needs 2,000: 1,450 to go. A
    # $100 sale in January is made at its opening status, Business: 10 + bonus 10 -> 570, 1,430 to go
    month, before, after = what_if(data, rules, "P1", D(2025, 1, 1), sales=(100.0,))
    assert (before.closing_points, before.status, before.points_to_next) == (550, "Certified Partner", 1450)
    assert (after.closing_points, after.points_to_next) == (570, 1430)


def test_r17_samples_adjustment_gives_p012_its_webinar_points(tmp_path):
    """samples/README.md: ADJ-2025-001 adds 200 to P012's 310 in March: 510, still Business."""
    samples = Path(__file__).resolve().parent.parent / "samples" / "inbox"
    result = CliRunner().invoke(main, ["run", str(samples), "--out", str(tmp_path), "-q", "--statements", "none"])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(tmp_path / "tiersheet-2025-03.xlsx", data_only=True)["Partners"]
    headers = [c.value for c in sheet[1]]
    row = next(dict(zip(headers, r)) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "P012")
    assert (row["Opening points"], row["Adjustment points"], row["Closing points"], row["Status"],
            row["Points to next"]) == (310, 200, 510, "Business Partner", 0)
