"""Property tests of the pure value parsers (SPEC I6, issue 10): amounts in every convention read
back to the same cents, dates in either order read back once their column decides, an ambiguous
column is never guessed, and no parser raises anything but CellError on arbitrary input."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from corpus import money  # noqa: E402

from tiersheet.config import load_rules  # noqa: E402
from tiersheet.inbox import (CellError, SheetReader, activity_parser, level_parser, parse_count,  # noqa: E402
                             parse_date, parse_list, parse_money, parse_month, parse_text, parse_yes,
                             sale_type_parser)
from tiersheet.inbox.dates import read_date_column  # noqa: E402
from tiersheet.inbox.files import RawSheet  # noqa: E402
from tiersheet.inbox.values import spreadsheet_error  # noqa: E402

RULES = load_rules()
CENTS = st.integers(min_value=-10**11, max_value=10**11)
DAYS = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))


@pytest.mark.parametrize("value, cents, currency", [
    ("1,234.50", 123450, None), ("1.234,50", 123450, None), ("1 234,50", 123450, None),
    ("1\u00a0234,50", 123450, None), ("1\u2009234,50", 123450, None), ("1\u202f234,50", 123450, None),
    ("1'234.50", 123450, None), ("$1,234.50", 123450, "USD"), ("€1.234,50", 123450, "EUR"),
    ("1234.50 USD", 123450, "USD"), ("(1,234.50)", -123450, None), ("1,234.50-", -123450, None),
    ("$ (1,234.50)", -123450, "USD"), ("−75", -7500, None), ("1.234", 123400, None), ("12,5", 1250, None),
])
def test_i6_money_conventions(value, cents, currency):
    amount, named = parse_money(value)
    assert (round(amount * 100), named) == (cents, currency)


@pytest.mark.parametrize("value", ["12..5", "1.2.3", "0,125", "1,2345", "1,23,456", "--5", "(5", "$€5",
                                   "5 EUR USD", "TBD", "", "1.234.56", "1,234,5"])
def test_i6_money_that_is_not_an_amount_is_never_guessed(value):
    with pytest.raises(CellError):
        parse_money(value)


@given(CENTS, st.sampled_from(["us", "eu", "fr", "swiss", "code"]), st.sampled_from(["USD", "EUR"]))
def test_i6_property_money_in_each_convention_reads_back_to_the_same_cents(cents, style, currency):
    amount, named = parse_money(money(cents / 100, style, currency))
    assert round(amount * 100) == cents
    assert named in (currency, None)


@given(CENTS)
def test_i6_property_plain_and_grouped_numbers_read_back(cents):
    for text in (f"{cents / 100:.2f}", f"{cents / 100:,.2f}", f"{cents / 100:,.2f}".replace(",", " ")):
        assert round(parse_money(text)[0] * 100) == cents


def written(day: date, order: str, separator: str) -> str:
    first, second = (day.day, day.month) if order == "DMY" else (day.month, day.day)
    return f"{first:02d}{separator}{second:02d}{separator}{day.year}"


@given(st.lists(DAYS, min_size=1, max_size=12), st.sampled_from(["DMY", "MDY"]), st.sampled_from("/.-"))
def test_i6_property_dates_read_back_once_the_column_decides(days, order, separator):
    witness = date(2025, 1, 13)   # day 13 can only be a day: it decides the column's order
    values = [written(d, order, separator) for d in [witness, *days]]
    dates, errors = read_date_column(values, list(range(2, len(values) + 2)), None)
    assert errors == {}
    assert dates == [witness, *days]


@given(st.lists(DAYS, min_size=1, max_size=12), st.sampled_from(["DMY", "MDY"]))
def test_i6_property_a_setting_decides_an_undecided_column(days, order):
    values = [written(d, order, "/") for d in days if d.day <= 12]
    dates, errors = read_date_column(values, list(range(len(values))), order)
    assert errors == {} and dates == [d for d in days if d.day <= 12]


SMALL_DAYS = st.builds(lambda y, m, d: date(y, m, d if d != m else d % 12 + 1),
                       st.integers(1990, 2099), st.integers(1, 12), st.integers(1, 12))


@given(st.lists(SMALL_DAYS, min_size=1, max_size=12), st.sampled_from(["DMY", "MDY"]))
def test_i6_property_an_ambiguous_column_is_never_guessed(days, order):
    values = [written(d, order, ".") for d in days]
    dates, errors = read_date_column(values, list(range(len(values))), None)
    assert dates == [None] * len(values)
    assert set(errors) == set(range(len(values)))
    assert all('[formats] dates = "DMY" (or "MDY")' in message for message in errors.values())


@given(st.lists(DAYS, min_size=1, max_size=6))
def test_i6_property_iso_named_and_serial_dates_need_no_order(days):
    for d in days:
        serial = (d - date(1899, 12, 30)).days
        for value in (d.isoformat(), f"{d:%Y-%m-%d}T08:30:00", f"{d.day}-{d:%b}-{d.year}",
                      f"{d:%B} {d.day}, {d.year}", serial, float(serial) + 0.75, f"{d:%Y%m%d}"):
            assert parse_date(value) == d


ANYTHING = st.one_of(st.text(), st.text(alphabet="0123456789.,'-+()$€ USDE/:\u00a0#NA!"),
                     st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                     st.none(), st.dates(), st.datetimes(), st.timedeltas())
PARSERS = [parse_money, parse_date, parse_month, parse_yes, parse_count, parse_list, parse_text,
           level_parser(RULES), activity_parser(RULES), sale_type_parser, spreadsheet_error,
           lambda v: parse_money(v, max_decimals=None),
           lambda v: read_date_column([v, "13/01/2025", v], [2, 3, 4], None),
           lambda v: read_date_column([v, "01/13/2025"], [2, 3], "DMY")]


@settings(max_examples=300)
@given(ANYTHING)
def test_i7_property_no_value_parser_raises_on_arbitrary_input(value):
    for parse in PARSERS:
        try:
            parse(value)
        except CellError:
            pass


@settings(max_examples=100)
@given(st.lists(st.lists(ANYTHING, min_size=0, max_size=6), max_size=8), st.sampled_from([None, "DMY"]))
def test_i7_property_a_sheet_of_arbitrary_cells_is_read_without_raising(rows, dates):
    from tiersheet.inbox.settings import InboxSettings
    reader = SheetReader(RULES, InboxSettings(dates=dates))
    header = ["Invoice ID", "Partner ID", "Invoice Date", "Amount", "Currency", "Amount USD"]
    kind, records, problems, report = reader.read(RawSheet("f.csv", "f", [header, *rows]))
    assert kind == "sales"
    assert report.rows_read == len(records) + report.rejected


def test_i6_serial_numbers_and_times_of_day():
    assert parse_date(45672) == date(2025, 1, 15)
    assert parse_date("2025-01-15 23:59:59") == date(2025, 1, 15)
    assert parse_date("1/15/2025 2:30 PM") == date(2025, 1, 15)
    with pytest.raises(CellError):
        parse_date(timedelta(hours=3))
