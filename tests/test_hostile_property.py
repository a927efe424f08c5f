"""Issue 12, SPEC I7 and I8 as a property: arbitrary cell values in every column of every sheet
kind never raise, every row ends accepted, rejected or duplicate, and no output cell holds a
formula made from input text."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tiersheet.inbox as inbox_module
from tiersheet.config import load_rules
from tiersheet.engine import NothingToRun
from tiersheet.inbox import KINDS, RawSheet, is_blank, read_inbox
from tiersheet.inbox.values import SheetError
from tiersheet.pipeline import run_inbox
from tiersheet.problems import NOTE

RULES = load_rules()
MARKER = "ZQ7"  # in every formula-like text generated; never in a formula of the engine's own
PARTNERS = [["Partner ID", "Partner Name", "Email"], ["P1", "First Partner", "p1@example.com"]]

def outside_run(number: float) -> bool:
    """Not a date serial of 1990-2099: a plausible date far from 2025 would make the run
    cover decades of months, which proves nothing more and takes minutes."""
    return not 32_000 <= number <= 74_000


formula_like = st.builds(lambda lead, tail: f"{lead}{MARKER}{tail}",
                         st.sampled_from(["=", "+", "-", "@", " \t=", "\n=", "\r\n@", "=cmd|' /C calc'!", "=HYPERLINK(\""]),
                         st.text(max_size=8))
arbitrary = st.one_of(
    st.none(), st.text(max_size=30), formula_like, st.booleans(),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Co", "Zl", "Zp"]), max_size=5),
    st.floats(allow_nan=True, allow_infinity=True).filter(outside_run),
    st.sampled_from([1e308, -1e308, 0.0, -0.0, 5e-324]),
    st.integers(min_value=-10**20, max_value=10**20).filter(outside_run),
    st.dates(max_value=date(1989, 12, 31)), st.dates(min_value=date(2100, 1, 1)),
    st.datetimes(max_value=datetime(1989, 12, 31)), st.datetimes(min_value=datetime(2100, 1, 1)),
    st.sampled_from([date(9999, 12, 31), date(1899, 12, 31), date(1, 1, 1)]),
    st.builds(SheetError, st.sampled_from(["#N/A", "#REF!", "#DIV/0!"])),
)
# What each type of column usually holds, so that rows also get accepted.
PLAUSIBLE = {
    "id": st.sampled_from(["X1", "X2", "P1"]), "date": st.dates(date(2025, 1, 1), date(2025, 2, 28)),
    "month": st.sampled_from(["2025-01", "2025-02"]), "amount": st.floats(-5000, 5000),
    "money": st.floats(0, 5000), "rate": st.floats(0.5, 2), "code": st.sampled_from(["USD", "EUR", "DE"]),
    "yes": st.sampled_from(["yes", "no"]), "count": st.integers(0, 3), "points": st.integers(0, 900),
    "level": st.sampled_from(["Business", "Gold"]), "sale_type": st.sampled_from(["licence", "renewal"]),
    "activity": st.sampled_from(["Case study delivery", "seminar"]),
}


TEXT = st.one_of(st.text(max_size=20), formula_like, st.just("y" * 33_000))  # text is accepted as written


def plausible(field) -> st.SearchStrategy:
    return st.just("P1") if field.name == "partner_id" else PLAUSIBLE.get(field.type, TEXT)


@st.composite
def row(draw, fields) -> list[object]:
    """Plausible cells but for a few arbitrary ones (or all), so rows end every way."""
    columns = range(len(fields))
    wild = draw(st.one_of(st.sets(st.sampled_from(columns), max_size=2), st.just(set(columns))))
    return [draw(arbitrary if i in wild else plausible(f)) for i, f in enumerate(fields)]


@st.composite
def sheets(draw) -> tuple[str, list[list[object]]]:
    kind = KINDS[draw(st.sampled_from(sorted(KINDS)))]
    header = [f.header for f in kind.fields]
    return kind.name, [header, *draw(st.lists(row(kind.fields), min_size=1, max_size=6))]


@pytest.mark.filterwarnings("error::UserWarning")  # xlsxwriter warns where it drops input (a page header)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets())
def test_i7_i8_arbitrary_cells_in_every_column_of_every_kind(sheet):
    kind, rows = sheet
    real = inbox_module.read_file

    def read_file(path: Path, display: str, *args) -> list[RawSheet]:
        if path.name == "generated.xlsx":
            return [RawSheet(display, "Generated", [list(r) for r in rows])]
        return real(path, display, *args)

    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "inbox", Path(tmp) / "out"
        folder.mkdir()
        book = openpyxl.Workbook()
        for row in PARTNERS:
            book.active.append(row)
        book.save(folder / "partners.xlsx")
        (folder / "generated.xlsx").write_bytes(b"")  # its sheet comes from read_file above
        inbox_module.read_file = read_file
        try:
            data = read_inbox(folder, RULES)  # nothing escapes (I7)
            for report in data.reports:
                assert report.rows_read == report.accepted + report.rejected + report.duplicates, report
            [generated] = [r for r in data.reports if r.file == "generated.xlsx"]
            accepted = sum((frame["source_file"] == "generated.xlsx").sum() for frame in data.frames.values()
                           if "source_file" in frame)
            assert generated.accepted == accepted
            noted = {p.row for p in data.problems if p.file == "generated.xlsx" and p.severity == NOTE}
            assert generated.rows_read + len(noted) == sum(not all(map(is_blank, r)) for r in rows[1:])
            try:
                run_inbox(folder, out, RULES, "default", through=date(2025, 2, 1))
            except NothingToRun:  # no month: said with the counts, not a crash (I7)
                return
        finally:
            inbox_module.read_file = real
        for path in out.rglob("*.xlsx"):  # every output opens, and no formula holds input text
            workbook = openpyxl.load_workbook(path)
            for sheet in workbook.worksheets:
                for line in sheet.iter_rows():
                    for c in line:
                        if c.data_type == "f":
                            assert MARKER not in str(c.value), (path.name, sheet.title, c.coordinate)
