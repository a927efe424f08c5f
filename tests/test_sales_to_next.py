"""O5 sales to next: the smallest single sale in whole US dollars that earns a number of points
at the partner's current status (R3, plus R4's bonus where it applies). Hand-computed figures
first, then the pure function against brute force over varied rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiersheet import rules as R
from tiersheet.config import load_rules

B, C = "Business Partner", "Certified Partner"


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def earned(amount: int, bonus: bool, rules) -> int:
    """R3 + R4 points of one sale, as the engine computes them."""
    points = int(R.sales_points(amount, rules))
    if bonus:
        points += int(rules.bonus_points * math.trunc(amount / rules.bonus_per_usd))
    return points


def test_o5_sales_to_next_spec_example_business_partner(rules):
    # SPEC O5: 237 points for a Business Partner is $1,200: 120 + 120 = 240 >= 237,
    # while $1,199 earns 119 + 110 = 229.
    assert R.sales_to_next(237, True, rules) == 1200
    assert earned(1199, True, rules) < 237 <= earned(1200, True, rules)


def test_o5_sales_to_next_without_bonus_is_ten_dollars_a_point(rules):
    # A Certified Partner earns 1 point per $10: 237 points need $2,370.
    assert R.sales_to_next(237, False, rules) == 2370
    # P002 closes March 2025 as a Certified Partner at 599: 2,000 - 599 = 1,401 points -> $14,010.
    assert R.sales_to_next(1401, False, rules) == 14010


def test_o5_sales_to_next_small_and_edge_figures(rules):
    assert R.sales_to_next(0, True, rules) == 0            # nothing to earn: no sale needed
    assert R.sales_to_next(-5, False, rules) == 0
    assert R.sales_to_next(1, True, rules) == 10            # $10: 1 point, no bonus step yet
    assert R.sales_to_next(11, True, rules) == 100          # $100: 10 + 10 = 20 >= 11 ($99: 9)
    assert R.sales_to_next(20, True, rules) == 100          # $100: exactly 20
    assert R.sales_to_next(21, True, rules) == 110          # $110: 11 + 10 = 21
    assert R.sales_to_next(236.5, True, rules) == 1200      # a fractional balance needs 237 points


def test_o5_sales_to_next_non_integer_ratio(rules):
    # 1 point per $30, 10 bonus points per $100: 100 points.
    # $700 earns 23 + 70 = 93; $720: 24 + 70 = 94; $800: 26 + 80 = 106 >= 100; $790: 26 + 70 = 96.
    odd = dataclasses.replace(rules, usd_per_point=30.0)
    assert R.sales_to_next(100, True, odd) == 800
    assert earned(799, True, odd) < 100 <= earned(800, True, odd)
    # 1 point per $7.50: 3 points need $22.50, so $23 in whole dollars.
    half = dataclasses.replace(rules, usd_per_point=7.5)
    assert R.sales_to_next(3, False, half) == 23


def test_r4_bonus_applies_at_the_bonus_level_inside_the_window(rules):
    day = dt.date(2025, 4, 1)
    assert R.bonus_applies(B, day, rules)
    assert not R.bonus_applies(C, day, rules)
    windowed = dataclasses.replace(rules, bonus_from=dt.date(2025, 2, 1), bonus_until=dt.date(2025, 3, 31))
    assert not R.bonus_applies(B, day, windowed)                  # the window closed on 03-31
    assert R.bonus_applies(B, dt.date(2025, 3, 31), windowed)
    assert not R.bonus_applies(B, dt.date(2025, 1, 31), windowed)  # not yet open


def brute_force(points: int, bonus: bool, rules) -> int:
    amount = 0
    while earned(amount, bonus, rules) < points:
        amount += 1
    return amount


@settings(max_examples=300, deadline=None)
@given(points=st.integers(min_value=-10, max_value=1500), bonus=st.booleans(),
       per_point=st.sampled_from([1.0, 2.5, 3.0, 7.5, 10.0, 12.0, 30.0, 45.0]),
       bonus_points=st.integers(min_value=1, max_value=40),
       per_usd=st.sampled_from([7.0, 25.0, 50.0, 99.0, 100.0, 150.0, 250.0, 333.0]))
def test_o5_sales_to_next_is_the_smallest_sale_by_brute_force(points, bonus, per_point, bonus_points,
                                                              per_usd):
    rules = dataclasses.replace(load_rules_once(), usd_per_point=per_point, bonus_points=bonus_points,
                                bonus_per_usd=per_usd)
    assert R.sales_to_next(points, bonus, rules) == brute_force(points, bonus, rules)


_rules_cache: list = []


def load_rules_once():
    if not _rules_cache:
        _rules_cache.append(load_rules())
    return _rules_cache[0]
