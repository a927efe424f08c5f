"""`tiersheet whatif`: what would it take for this partner to reach the next level? (SPEC O10)

Every run is a pure function of the inbox and the rules, so a what-if is the same run twice: once
on the inbox as it is, once with the hypothetical rows added to the month (sales, activities,
changed requirement values), and the partner's standing compared. Nothing is written.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import date

from . import rules as R
from .config import RuleBook, Rules, rule_book
from .engine import PartnerMonth, run_engine, run_months
from .errors import UsageProblem
from .inbox import Inbox, to_frame
from .inbox.money import parse_count, parse_number
from .inbox.values import CellError, parse_yes
from .months import next_month

# What --set may change: the partner's requirement values (R6, R7).
SETTABLE = {"partner_agreement": parse_yes, "nda": parse_yes, "certified_engineers": parse_count,
            "certified_sales_specialists": parse_count, "first_line_support": parse_yes,
            "logo_on_website": parse_yes, "product_descriptions_on_website": parse_yes,
            "sales_commitment_usd": parse_number, "forecast_submitted": parse_yes}
WHAT_IF = "what-if"  # the source file named by hypothetical rows


@dataclass(frozen=True)
class Standing:
    """What O10 compares, for one partner at one month's close."""
    closing_points: int
    status: str
    change: str
    margin: float
    next_status: str
    points_to_next: int | None
    sales_to_next: int | None
    missing_for_status: str
    missing_for_next: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


LABELS = {"closing_points": "Closing points", "status": "Status", "change": "Change",
          "margin": "Margin", "next_status": "Next status", "points_to_next": "Points to next",
          "sales_to_next": "Sales to next (USD)", "missing_for_status": "Missing for status",
          "missing_for_next": "Missing for next"}


def standing(partner: PartnerMonth, month: date, rules: Rules) -> Standing:
    level = rules.levels[partner.rank - 1]
    upper = rules.levels[partner.rank] if partner.rank < len(rules.levels) else None
    to_next = max(0, int(upper.threshold - partner.closing_points)) if upper else None
    bonus = R.bonus_applies(level.name, next_month(month), rules)
    return Standing(
        closing_points=int(partner.closing_points), status=level.name, change=partner.change,
        margin=level.margin, next_status=upper.name if upper else "",
        points_to_next=to_next,
        sales_to_next=R.sales_to_next(to_next, bonus, rules) if upper else None,
        missing_for_status="; ".join(partner.missing.get(partner.rank, [])),
        missing_for_next="; ".join(partner.missing.get(partner.rank + 1, [])) if upper else "")


def parse_settings(pairs: tuple[str, ...]) -> dict[str, object]:
    """--set FIELD=VALUE pairs, typed as the partners sheet's cells would be."""
    values = {}
    for pair in pairs:
        field, sep, text = pair.partition("=")
        field = field.strip()
        if not sep or field not in SETTABLE:
            raise UsageProblem(f"--set {pair!r}: write FIELD=VALUE with FIELD one of {', '.join(SETTABLE)}")
        try:
            values[field] = SETTABLE[field](text.strip())
        except CellError as exc:
            raise UsageProblem(f"--set {pair!r}: {text.strip()!r} {exc}") from None
    return values


def with_hypotheses(inbox: Inbox, rules: Rules, partner_id: str, month: date, sales: tuple[float, ...],
                    activities: tuple[str, ...], settings: dict[str, object]) -> Inbox:
    """The inbox with the hypothetical rows added, dated the month's last day."""
    day = R.month_end(month)
    by_key = {activity.key: activity for activity in rules.activities}
    unknown = [key for key in activities if key not in by_key]
    if unknown:
        raise UsageProblem(f"--activity {', '.join(unknown)}: not an activity type; choose from "
                           f"{', '.join(by_key)}")
    frames = dict(inbox.frames)
    provenance = {"source_file": WHAT_IF, "source_sheet": "", "source_row": 0}
    if sales:
        rows = inbox.sales.to_dict("records") + [
            {"invoice_id": f"WHAT-IF-{i}", "partner_id": partner_id, "invoice_date": day, "product": "",
             "edition": "", "sale_type": "licence", "amount_usd": float(amount), "amount": None,
             "currency": "", "usd_rate": None, **provenance} for i, amount in enumerate(sales, start=1)]
        frames["sales"] = to_frame("sales", rows)
    if activities:
        rows = inbox.activities.to_dict("records") + [
            {"activity_id": f"WHAT-IF-{i}", "partner_id": partner_id, "date": day, "activity": key,
             "approved_on": day, "description": "what-if", "activity_text": by_key[key].label, **provenance}
            for i, key in enumerate(activities, start=1)]
        frames["activities"] = to_frame("activities", rows)
    if settings:
        # a new snapshot of the partner as of the month, its requirement values changed (I2)
        partners = inbox.partners.to_dict("records")
        current = [row for row in partners if row["partner_id"] == partner_id]
        in_force = [row for row in current if row["as_of"] is None or row["as_of"] <= day]
        latest = max(in_force or current, key=lambda row: (row["as_of"] is not None, row["as_of"] or date.min))
        partners = [row for row in partners if not (row["partner_id"] == partner_id and row["as_of"] == month)]
        partners.append({**latest, **settings, "as_of": month, **provenance})
        frames["partners"] = to_frame("partners", partners)
    return Inbox(frames, inbox.problems, inbox.reports)


def what_if(inbox: Inbox, rules: Rules | RuleBook, partner_id: str, month: date | None, sales: tuple[float, ...] = (),
            activities: tuple[str, ...] = (), settings: tuple[str, ...] = ()) -> tuple[date, Standing, Standing]:
    """The partner's standing at `month`'s close (default: the last month), before and after,
    under the rules in force in that month (R18)."""
    rules = rule_book(rules)
    known = sorted(set(inbox.partners["partner_id"]))
    if partner_id not in known:
        shown = ", ".join(known[:20]) + (f" and {len(known) - 20} more" if len(known) > 20 else "")
        raise UsageProblem(f"--partner {partner_id}: no such partner in the inbox; partners: {shown}")
    months = run_months(inbox, month)
    month = months[-1]
    changed = with_hypotheses(inbox, rules.for_month(month), partner_id, month, sales, activities, parse_settings(settings))
    results = []
    for data in (inbox, changed):
        run = run_engine(data, rules, month, months=months)
        closing = run.months[-1]
        partner = next((p for p in closing.partners if p.partner_id == partner_id), None)
        if partner is None:
            raise UsageProblem(f"--partner {partner_id}: not in the programme in {month:%Y-%m} "
                               "(it joins later)")
        results.append(standing(partner, month, closing.rules))
    return month, results[0], results[1]


def show(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.0%}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(partner_id: str, month: date, before: Standing, after: Standing, width: int = 38) -> str:
    """Before and after side by side, long texts wrapped; changed lines marked with '*'."""
    label_width = max(len(label) for label in LABELS.values())
    lines = [f"What if, for {partner_id} at the close of {month:%B %Y}:", "",
             f"  {'':<{label_width}}  {'Before':<{width}}  After"]
    for key, label in LABELS.items():
        old, new = getattr(before, key), getattr(after, key)
        left = textwrap.wrap(show(old), width) or [""]
        right = textwrap.wrap(show(new), width) or [""]
        for i in range(max(len(left), len(right))):
            mark = "*" if old != new and i == 0 else " "
            name = label if i == 0 else ""
            lines.append(f"{mark} {name:<{label_width}}  {(left[i] if i < len(left) else ''):<{width}}  "
                         f"{right[i] if i < len(right) else ''}".rstrip())
    return "\n".join(lines)
