"""The programme's rules as pure functions: no files, no state, one per R-number where that reads
well. The engine applies them month by month; the workbook writes the same rules as formulas,
so each function here has a twin formula in `workbook.py` that must compute the same value.
"""

from __future__ import annotations

import calendar
import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from .config import Level, Rules
from .months import month_end


def add_months(day: date, months: int) -> date:
    """Excel's EDATE: the same day `months` later, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def excel_round(value: float, digits: int = 2) -> float:
    """Excel's ROUND (half away from zero, on the 15 significant digits Excel shows)."""
    return float(Decimal(f"{value:.15g}").quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


# R3 Sales points: trunc(amount / 10); credit notes earn the negative of the same.
def sales_points(amount_usd: pd.Series | np.ndarray | float, rules: Rules):
    return np.trunc(np.asarray(amount_usd, dtype=float) / rules.usd_per_point)


# R4 Early-adopter bonus: 10 x trunc(amount / 100) while at the bonus level, in the window.
def bonus_points(amount_usd, status_at_date, sale_date, rules: Rules):
    amount = np.asarray(amount_usd, dtype=float)
    eligible = np.asarray(status_at_date) == rules.level(rules.bonus_level).name
    dates = np.asarray(sale_date, dtype=object)
    if rules.bonus_from is not None:
        eligible &= np.array([d >= rules.bonus_from for d in dates], dtype=bool)
    if rules.bonus_until is not None:
        eligible &= np.array([d <= rules.bonus_until for d in dates], dtype=bool)
    return np.where(eligible, rules.bonus_points * np.trunc(amount / rules.bonus_per_usd), 0.0)


def bonus_applies(status_name: str, day: date, rules: Rules) -> bool:
    """R4: whether a sale on `day` at status `status_name` earns the early-adopter bonus."""
    return (status_name == rules.level(rules.bonus_level).name and rules.bonus_points > 0
            and (rules.bonus_from is None or day >= rules.bonus_from)
            and (rules.bonus_until is None or day <= rules.bonus_until))


def _ceil(x: float) -> int:
    """Excel's -INT(-x): the smallest whole number at or above x (the twin formula uses it)."""
    return -math.floor(-x)


# O5 Sales to next: the smallest single sale in whole US dollars earning `points` (R3 + R4).
def sales_to_next(points: float, bonus: bool, rules: Rules) -> int:
    """A sale of A dollars earns trunc(A/u) points, plus b x trunc(A/v) with the bonus. With m
    bonus steps (A >= m*v) it needs trunc(A/u) >= P - b*m, so the cheapest sale with exactly m
    steps is max(ceil(m*v), ceil((P - b*m)*u)): the first term grows with m, the second falls,
    so the minimum over all m lies at the real crossing m*v = (P - b*m)*u, on one of the two
    whole numbers around it. The statement's formula computes the same two candidates."""
    need = _ceil(points)  # points are whole; a fractional balance still needs the next whole point
    if need <= 0:
        return 0
    u = rules.usd_per_point
    if not bonus:
        return _ceil(need * u)
    b, v = rules.bonus_points, rules.bonus_per_usd
    steps = max(0, math.floor(need * u / (v + b * u)))
    return min(max(_ceil(m * v), _ceil(max(0, need - b * m) * u)) for m in (steps, steps + 1))


# R5 Activity points: starred types count only when approved on or before the activity date.
def activity_outcome(base_points: int, needs_approval: bool, day: date,
                     approved_on: date | None) -> tuple[int, str]:
    if not needs_approval:
        return base_points, ""
    if approved_on is None:
        return 0, "awaiting approval"
    if approved_on > day:
        return 0, "approval dated after the activity"
    return base_points, ""


# R6 Requirements: what is missing for a level, in words and numbers.
def missing_for(level: Level, snapshot: dict, commitment_met: bool, commitment_detail: str,
                rules: Rules) -> list[str]:
    missing = []
    for requirement, needed in rules.asked[level.rank]:
        if requirement.kind == "yes" and not snapshot.get(requirement.key):
            missing.append(requirement.label)
        elif requirement.kind == "count":
            have = int(snapshot.get(requirement.key) or 0)
            if have < needed:
                missing.append(f"{requirement.label}: {have} of {needed}")
        elif requirement.kind == "commitment" and not commitment_met:
            missing.append(f"{requirement.label}: {commitment_detail}")
    return missing


# R7 Sales volume commitment.
def commitment_status(commitment_usd: float | None, quarter_sales: float | None) -> tuple[bool, str]:
    """Met, and the words for when it is not. quarter_sales None = no whole quarter at Gold yet."""
    agreed = float(commitment_usd or 0)
    if agreed <= 0:
        return False, "no volume agreed"
    if quarter_sales is None or quarter_sales >= agreed:
        return True, ""
    return False, f"{int(quarter_sales)} of {int(agreed)} USD in the last quarter"


# R8 Upgrade: the highest level above the current whose threshold and requirements are met.
def upgrade_rank(opening_rank: int, points: float, meets: dict[int, bool], rules: Rules) -> int:
    reached = [lv.rank for lv in rules.levels if points >= lv.threshold and meets[lv.rank]]
    return max([opening_rank, *reached])


# R10 Downgrade: the highest lower level whose requirements are met (the lowest if none).
def downgrade_rank(opening_rank: int, meets: dict[int, bool]) -> int:
    return max([1, *[rank for rank in range(2, opening_rank) if meets[rank]]])


def month_close(opening_rank: int, points_before: float, meets: dict[int, bool],
                certificate_expires: date, month: date, rules: Rules,
                lapsed_before: bool = False, override_rank: int | None = None,
                held: bool = False) -> dict:
    """R8, R10 and R17 at one partner's month close: closing level, change, points, certificate.

    A lapsed certificate stays expired until the partner meets its level again (then it is
    renewed); "Lapsed" is reported in the month it lapses, not again every month after.
    R17: an override sets the level whatever R8 and R10 say and issues a certificate; a level
    `held` by an earlier override is not downgraded. Points are set to the threshold whenever
    the level goes down, as R10 does, so that R8 does not lift the partner straight back."""
    end = month_end(month)
    expiring = certificate_expires <= end
    meets_opening = meets[opening_rank]
    downgrade = (opening_rank > 1 and not meets_opening and not held
                 and (expiring or rules.downgrade == "month_end"))
    rank = override_rank or (downgrade_rank(opening_rank, meets) if downgrade else upgrade_rank(
        opening_rank, points_before, meets, rules))
    if rank < opening_rank:
        change = "Downgrade"
    elif rank > opening_rank:
        change = "Upgrade"
    elif override_rank:
        change = "Renewed"
    elif expiring:
        change = "Renewed" if meets_opening else ("" if lapsed_before else "Lapsed")
    else:
        change = ""
    points = rules.levels[rank - 1].threshold if rank < opening_rank else points_before
    if override_rank or rank != opening_rank:
        expires = add_months(end, rules.valid_months)
    elif expiring and meets_opening:
        renewed = add_months(certificate_expires, rules.valid_months)
        expires = renewed if renewed > end else add_months(end, rules.valid_months)
    else:
        expires = certificate_expires
    return {"rank": rank, "change": change, "points": points, "expires": expires,
            "expiring": expiring, "downgrade": downgrade, "meets_opening": meets_opening,
            "lapsed": (expiring and not meets_opening and not override_rank and rank == opening_rank)}


# R11 Margin at the status of the sale's date.
def margin_for(status_names, rules: Rules) -> np.ndarray:
    by_name = {lv.name: lv.margin for lv in rules.levels}
    return np.array([by_name[name] for name in status_names], dtype=float)


# R14 Lead rotation: the first eligible partner after the territory's previous one, wrapping.
def next_in_rotation(eligible: list[str], previous: str | None) -> str | None:
    if not eligible:
        return None
    ordered = sorted(eligible)
    if previous is not None:
        for partner_id in ordered:
            if partner_id > previous:
                return partner_id
    return ordered[0]


# R15 Co-op reimbursement: min(requested, share x expense) for eligible levels.
def coop_reimbursement(status_name: str, expense: float, requested: float | None,
                       rules: Rules) -> tuple[float, str]:
    rank = rules.level_by_name(status_name).rank
    minimum = rules.level(rules.coop_min_level)
    if rank < minimum.rank:
        return 0.0, f"{status_name}: co-op marketing starts at {minimum.name}"
    cap = rules.coop_share * expense
    if requested is not None and requested < cap:
        return float(requested), "requested amount (below the cap)"
    return cap, f"{rules.coop_share:.0%} of expense (cap)"
