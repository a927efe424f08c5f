"""Month-by-month state of the programme: each month opens with the previous month's closing
state, posts the month's events, and closes (R2). Sale lines are handled as columns; only the
per-partner month close loops in Python, once per partner per month.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from . import rules as R
from .config import RuleBook, Rules, rule_book
from .errors import TiersheetError
from .inbox import DATED_KINDS, Inbox, joined_on, normalise_header
from .months import month_of, next_month, previous_month
from .problems import Problem


@dataclass
class PartnerMonth:
    """One partner in one month: what it opened with, what it earned, how it closed."""
    partner_id: str
    name: str
    email: str
    snapshot: dict
    opening_rank: int
    opening_points: float
    opening_note: str
    certificate_on_file: date
    certificate_note: str
    intranet_used_before: bool
    lapsed_before: bool = False
    quarter_label: str = ""
    quarter_prior_sales: float = 0.0
    quarter_includes_month: bool = False
    quarter_sales: float | None = None
    commitment_met: bool = False
    commitment_detail: str = ""
    sales_points: float = 0.0
    bonus_points: float = 0.0
    activity_points: float = 0.0
    adjustment_points: float = 0.0
    held_until: date | None = None   # R17: an earlier override's `until`, in force at this close
    override_rank: int | None = None  # R17: this month's status override, if any
    override_index: int | None = None  # its row of the month's adjustments frame
    override_note: str = ""
    points_before: float = 0.0
    meets: dict[int, bool] = field(default_factory=dict)
    missing: dict[int, list[str]] = field(default_factory=dict)
    rank: int = 1
    change: str = ""
    closing_points: float = 0.0
    certificate_expires: date | None = None
    expiring: bool = False
    downgrade: bool = False
    lapsed: bool = False


@dataclass
class NfrRow:
    partner_id: str
    edition: str
    entitled_on: date
    how: str
    issued: bool
    month: date                      # the month it was granted
    sale_index: int | None = None    # row of this month's sales frame, for R12 grants


@dataclass
class MonthResult:
    month: date
    partners: list[PartnerMonth]
    sales: pd.DataFrame
    activities: pd.DataFrame
    leads: pd.DataFrame
    claims: pd.DataFrame
    nfr: list[NfrRow]
    adjustments: pd.DataFrame
    rules: Rules  # R18: the rules in force in this month

    @property
    def end(self) -> date:
        return R.month_end(self.month)


@dataclass
class RunResult:
    rules: RuleBook
    months: list[MonthResult]
    problems: list[Problem]
    reports: list


class RunError(TiersheetError):
    """The run cannot go on (for example: nothing dated in the inbox)."""


class NothingToRun(RunError):
    """No dated row could be used (I7): the reason, then the counts per file and the first
    problems, so that `run` says why; `check` shows those itself and needs only the reason."""

    def __init__(self, reason: str, account: str):
        super().__init__(f"{reason}\n{account}" if account else reason)
        self.reason = reason


class ThroughTooFar(RunError):
    """--through lies so far past the inbox's events that it is surely a typo (a usage error)."""
    exit_code = 2


MAX_MONTHS_PAST_EVENTS = 24  # how far --through may extend a run past its latest dated event


def run_months(inbox: Inbox, through: date | None) -> list[date]:
    """Every month from the earliest dated event to the latest, or to --through (R2)."""
    dates = [inbox.frames[kind.name][kind.date_field] for kind in DATED_KINDS
             if len(inbox.frames[kind.name])]
    if not dates:
        if through is None:
            raise NothingToRun("the inbox holds no dated sales, activities, leads or claims that could be used, "
                               "so there is no month to run (give --through YYYY-MM to write the workbooks with "
                               "their Exceptions anyway)", inbox.account())
        return [through]
    first = min(min(d) for d in dates)
    last = max(max(d) for d in dates)
    start, end = month_of(first), through or month_of(last)
    if through is not None and through > R.add_months(month_of(last), MAX_MONTHS_PAST_EVENTS):
        gap = (through.year - last.year) * 12 + through.month - last.month
        raise ThroughTooFar(
            f"--through {through:%Y-%m} is {gap:,} months after the latest dated event ({last:%Y-%m}); "
            f"a run may go on at most {MAX_MONTHS_PAST_EVENTS} months past it. Check the year.")
    if end < start:
        raise RunError(f"--through {through:%Y-%m} is before the first dated event ({start:%Y-%m})")
    months = [start]
    while months[-1] < end:
        months.append(next_month(months[-1]))
    return months


def edition_issued(edition: str, issued: tuple[str, ...]) -> bool:
    """'InfoPace', 'infopace edition' or the full edition name all count as issued (R13)."""
    full = normalise_header(edition)
    for item in issued:
        item = normalise_header(item)
        if len(item) >= 4 and (item in full or full in item):
            return True
    return False


class Programme:
    """The programme's state across months, fed one month at a time."""

    def __init__(self, inbox: Inbox, book: RuleBook, months: list[date]):
        self.book = book
        self.rules = book.base  # R18: replaced by the month's rules as each month closes
        self.inbox = inbox
        self.months = months
        self.snapshots = self._snapshots(inbox.partners)
        self.entry = self._entry_months(months[0])
        self.rank: dict[str, int] = {}
        self.points: dict[str, float] = {}
        self.certificate: dict[str, date] = {}
        self.intranet_used: dict[str, bool] = {}
        self.lapsed: dict[str, bool] = {}
        self.held: dict[str, date | None] = {}  # R17: the month an override's hold ends
        self.history: dict[str, dict[date, tuple[int, float]]] = defaultdict(dict)
        self.nfr: dict[str, list[NfrRow]] = defaultdict(list)
        self.rotation: dict[str, str] = {}
        self.previous: date | None = None
        self._split: dict[tuple, dict[int, pd.DataFrame]] = {}

    @staticmethod
    def _snapshots(partners: pd.DataFrame) -> dict[str, list[dict]]:
        by_partner: dict[str, list[dict]] = defaultdict(list)
        for record in partners.to_dict("records"):
            by_partner[record["partner_id"]].append(record)
        for snaps in by_partner.values():
            snaps.sort(key=lambda s: (s["as_of"] is not None, s["as_of"] or date.min))
        return dict(sorted(by_partner.items()))

    def snapshot(self, partner_id: str, month: date) -> dict:
        """The snapshot in force in `month`: the latest whose as_of month has begun (I2)."""
        snaps = self.snapshots[partner_id]
        in_force = [s for s in snaps if s["as_of"] is None or month_of(s["as_of"]) <= month]
        return in_force[-1] if in_force else snaps[0]

    def _entry_months(self, first: date) -> dict[str, date]:
        joined = joined_on(s for snaps in self.snapshots.values() for s in snaps)
        return {pid: max(first, month_of(day)) if day else first for pid, day in joined.items()}

    # --- one month ------------------------------------------------------------------------

    def close_month(self, month: date) -> MonthResult:
        rules = self.rules = self.book.for_month(month)  # R18
        partners = [pid for pid in self.snapshots if self.entry[pid] <= month]
        rows: dict[str, PartnerMonth] = {}
        for pid in partners:
            snap = self.snapshot(pid, month)
            if pid not in self.rank:  # first month in the programme (Starting state)
                first = self.snapshot(pid, self.entry[pid])
                level = rules.level_by_name(first["starting_status"]) if first["starting_status"] else rules.lowest
                self.rank[pid] = level.rank
                self.points[pid] = float(first["opening_points"] or 0)
                issued = first["certificate_issued_on"] or month
                self.certificate[pid] = R.add_months(issued, rules.valid_months)
                self.intranet_used[pid] = False
                opening_note = f"starting state ({first['source_file']} row {first['source_row']})"
                cert_note = (f"issued {issued:%Y-%m-%d}" + ("" if first["certificate_issued_on"] else
                             " (default: first day of the first month)"))
            else:
                opening_note = f"closing of {self.previous:%Y-%m} (tiersheet-{self.previous:%Y-%m}.xlsx)"
                cert_note = f"on file at the close of {self.previous:%Y-%m}"
            rows[pid] = PartnerMonth(
                partner_id=pid, name=snap["partner_name"], email=snap["email"] or "",
                snapshot=snap, opening_rank=self.rank[pid], opening_points=self.points[pid],
                opening_note=opening_note, certificate_on_file=self.certificate[pid],
                certificate_note=cert_note, lapsed_before=self.lapsed.get(pid, False),
                held_until=self.held.get(pid),
                intranet_used_before=self.intranet_used[pid] or bool(snap["prior_intranet_sale"]))

        status_name = {pid: rules.levels[row.opening_rank - 1].name for pid, row in rows.items()}
        sales = self._annotate_sales(month, rows, status_name)
        activities = self._annotate_activities(month)
        claims = self._annotate_claims(month, status_name)
        leads = self._assign_leads(month, rows)
        adjustments = self._adjustments(month, rows)

        sums = sales.groupby("partner_id")[["points", "bonus_points", "amount_usd"]].sum()
        sales_points, bonus_points, amounts = (sums[c].to_dict() for c in ("points", "bonus_points", "amount_usd"))
        activity_points = activities.groupby("partner_id")["points"].sum().to_dict()
        commitment_rank = rules.level(rules.commitment_level).rank
        for pid, row in rows.items():
            row.sales_points = float(sales_points.get(pid, 0.0))
            row.bonus_points = float(bonus_points.get(pid, 0.0))
            month_sales = float(amounts.get(pid, 0.0))
            row.activity_points = float(activity_points.get(pid, 0.0))
            row.points_before = max(0.0, row.opening_points + row.sales_points + row.bonus_points
                                    + row.activity_points + row.adjustment_points)  # R3: never below 0
            self.history[pid][month] = (row.opening_rank, month_sales)
            self._commitment(row, month, commitment_rank)
            for level in rules.levels:
                row.missing[level.rank] = R.missing_for(level, row.snapshot, row.commitment_met,
                                                        row.commitment_detail, rules)
                row.meets[level.rank] = not row.missing[level.rank]
            close = R.month_close(row.opening_rank, row.points_before, row.meets,
                                  row.certificate_on_file, month, rules, row.lapsed_before,
                                  row.override_rank, held=row.held_until is not None and row.held_until > month)
            row.rank, row.change, row.closing_points = close["rank"], close["change"], close["points"]
            row.certificate_expires, row.expiring = close["expires"], close["expiring"]
            row.downgrade, row.lapsed = close["downgrade"], close["lapsed"]

        nfr = self._grant_nfr(month, rows, sales)
        for pid, row in rows.items():  # carry the closing state into the next month
            self.rank[pid] = row.rank
            self.points[pid] = row.closing_points
            self.certificate[pid] = row.certificate_expires
            self.lapsed[pid] = row.lapsed
            if row.override_rank is not None:  # R17: a new override replaces any earlier hold
                self.held[pid] = adjustments.at[row.override_index, "until"]
        for pid in sales.loc[sales["first_sale"], "partner_id"]:
            self.intranet_used[pid] = True
        self.previous = month
        return MonthResult(month, list(rows.values()), sales, activities, leads, claims, nfr, adjustments, rules)

    def _month_rows(self, frame: pd.DataFrame, column: str, month: date) -> pd.DataFrame:
        """The rows of `frame` dated in `month` (the frame is split by month once)."""
        key = (id(frame), column)
        if key not in self._split:
            months = [d.year * 12 + d.month - 1 for d in frame[column]]
            self._split[key] = ({m: part for m, part in frame.groupby(np.array(months), sort=False)}
                                if len(frame) else {})
        part = self._split[key].get(month.year * 12 + month.month - 1)
        return part.copy() if part is not None else frame.iloc[0:0].copy()

    def _annotate_sales(self, month: date, rows: dict, status_name: dict) -> pd.DataFrame:
        """R3, R4, R11, R12 on the month's sale lines, as columns."""
        rules = self.rules
        sales = self._month_rows(self.inbox.sales, "invoice_date", month)
        sales = sales.sort_values(["partner_id", "invoice_date", "invoice_id"], kind="stable").reset_index(drop=True)
        amount = sales["amount_usd"].astype(float)
        sales["status_at_date"] = sales["partner_id"].map(status_name)
        sales["points"] = R.sales_points(amount, rules)
        sales["bonus_points"] = R.bonus_points(amount, sales["status_at_date"], sales["invoice_date"], rules)
        sales["margin_pct"] = R.margin_for(sales["status_at_date"], rules)
        sales["margin_usd"] = amount * sales["margin_pct"]
        sales["partner_cost_usd"] = amount - sales["margin_usd"]
        product = sales["product"].fillna("").astype(str).str.strip().str.casefold()
        sale_type = sales["sale_type"].fillna("").astype(str).str.casefold()
        sales["intranet_licence"] = ((product == rules.first_sale_product.casefold())
                                     & (sale_type == rules.first_sale_type.casefold()) & (amount > 0))
        used = sales["partner_id"].map(lambda pid: rows[pid].intranet_used_before).astype(int)
        sales["intranet_count"] = sales.groupby("partner_id")["intranet_licence"].cumsum().astype(int) + used
        sales["first_sale"] = sales["intranet_licence"] & (sales["intranet_count"] == 1)
        sales["first_sale_discount_usd"] = np.where(
            sales["first_sale"], sales["partner_cost_usd"] * rules.first_sale_discount, 0.0)
        sales["amount_due_usd"] = sales["partner_cost_usd"] - sales["first_sale_discount_usd"]
        return sales

    def _annotate_activities(self, month: date) -> pd.DataFrame:
        """R5: points for counted activities, and why the others are not counted."""
        activities = self._month_rows(self.inbox.activities, "date", month)
        activities = activities.sort_values(["partner_id", "date", "activity_id"], kind="stable").reset_index(drop=True)
        by_key = {a.key: a for a in self.rules.activities}
        outcomes = [R.activity_outcome(by_key[key].points, by_key[key].needs_approval, day,
                                       approved if isinstance(approved, date) else None)
                    for key, day, approved in zip(activities["activity"], activities["date"],
                                                  activities["approved_on"])]
        activities["base_points"] = [by_key[k].points for k in activities["activity"]]
        activities["needs_approval"] = [by_key[k].needs_approval for k in activities["activity"]]
        activities["points"] = [float(p) for p, _ in outcomes]
        activities["reason"] = [reason for _, reason in outcomes]
        activities["counted"] = [not reason for _, reason in outcomes]
        return activities

    def _adjustments(self, month: date, rows: dict[str, PartnerMonth]) -> pd.DataFrame:
        """R17: the month's adjustments by partner; their points add up, the latest status wins."""
        frame = self._month_rows(self.inbox.adjustments, "date", month)
        frame = frame.sort_values(["partner_id", "date", "adjustment_id"], kind="stable").reset_index(drop=True)
        for index, record in zip(frame.index, frame.to_dict("records")):
            row = rows[record["partner_id"]]
            row.adjustment_points += float(record["points"] or 0)
            if record["status"]:
                row.override_rank = self.rules.level_by_name(record["status"]).rank
                row.override_index = int(index)
                held = f", held until the close of {record['until']:%Y-%m}" if record["until"] else ""
                row.override_note = (f"{record['status']}: {record['reason']} (approved by "
                                     f"{record['approved_by']}; {record['adjustment_id']}{held})")
        return frame

    def _annotate_claims(self, month: date, status_name: dict) -> pd.DataFrame:
        """R15 on the month's co-op claims."""
        claims = self._month_rows(self.inbox.claims, "date", month)
        claims = claims.sort_values(["date", "claim_id"], kind="stable").reset_index(drop=True)
        claims["status_at_date"] = claims["partner_id"].map(status_name)
        results = [R.coop_reimbursement(status, float(expense),
                                        None if requested is None or requested != requested else float(requested),
                                        self.rules)
                   for status, expense, requested in zip(claims["status_at_date"], claims["expense_usd"],
                                                         claims["requested_usd"])]
        claims["reimbursement_usd"] = [amount for amount, _ in results]
        claims["reason"] = [reason for _, reason in results]
        return claims

    def _assign_leads(self, month: date, rows: dict[str, PartnerMonth]) -> pd.DataFrame:
        """R14: by turns among the territory's Gold partners, carried across months."""
        leads = self._month_rows(self.inbox.leads, "received_on", month)
        leads = leads.sort_values(["received_on", "lead_id"], kind="stable").reset_index(drop=True)
        level = self.rules.level(self.rules.leads_level)
        by_territory: dict[str, list[str]] = defaultdict(list)
        for pid, row in rows.items():
            if row.opening_rank == level.rank:
                for territory in row.snapshot["territories"] or ():
                    by_territory[territory.strip().upper()].append(pid)
        assigned, reasons = [], []
        eligible_by = {territory: sorted(set(ids)) for territory, ids in by_territory.items()}
        for territory in leads["territory"]:
            eligible = eligible_by.get(territory, [])
            chosen = R.next_in_rotation(eligible, self.rotation.get(territory))
            if chosen is None:
                assigned.append("")
                reasons.append(f"unassigned: no {level.name} authorized for territory {territory}")
                continue
            previous = self.rotation.get(territory)
            self.rotation[territory] = chosen
            assigned.append(chosen)
            reasons.append(f"turn after {previous} among {', '.join(eligible)}" if previous
                           else f"first lead of the territory among {', '.join(eligible)}")
        leads["assigned_to"] = assigned
        leads["reason"] = reasons
        return leads

    def _commitment(self, row: PartnerMonth, month: date, commitment_rank: int) -> None:
        """R7: the most recent whole calendar quarter at the commitment level, if any."""
        history = self.history[row.partner_id]
        quarter_end = month
        while quarter_end.month % 3:
            quarter_end = previous_month(quarter_end)
        earliest = min(history)
        while quarter_end >= earliest:
            months = [quarter_end, previous_month(quarter_end), previous_month(previous_month(quarter_end))]
            if all(m in history and history[m][0] >= commitment_rank for m in months):
                row.quarter_label = f"{quarter_end.year}-Q{quarter_end.month // 3}"
                row.quarter_sales = sum(history[m][1] for m in months)
                row.quarter_includes_month = quarter_end == month
                row.quarter_prior_sales = sum(history[m][1] for m in months if m != month)
                break
            quarter_end = previous_month(months[-1])
        row.commitment_met, row.commitment_detail = R.commitment_status(
            row.snapshot["sales_commitment_usd"], row.quarter_sales)

    def _grant_nfr(self, month: date, rows: dict[str, PartnerMonth], sales: pd.DataFrame) -> list[NfrRow]:
        """R13: once per partner and edition; all grants so far, issued per this month's snapshot."""
        rules = self.rules
        first_level = rules.level(rules.nfr_first_sale_level)
        granted = {pid: {n.edition for n in grants} for pid, grants in self.nfr.items()}
        firsts = sales.index[sales["first_sale"]]
        for index in firsts:
            pid = sales.at[index, "partner_id"]
            if rows[pid].opening_rank == first_level.rank and first_level.nfr_edition \
                    and first_level.nfr_edition not in granted.get(pid, set()):
                self.nfr[pid].append(NfrRow(pid, first_level.nfr_edition, sales.at[index, "invoice_date"],
                                            f"first Intranet sale {sales.at[index, 'invoice_id']} (R12)",
                                            False, month, int(index)))
        for pid, row in rows.items():
            level = rules.levels[row.rank - 1]
            if row.change == "Upgrade" and level.nfr_edition and level.nfr_edition not in granted.get(pid, set()):
                self.nfr[pid].append(NfrRow(pid, level.nfr_edition, R.month_end(month),
                                            f"reached {level.name} at the close of {month:%Y-%m}",
                                            False, month))
        result = []
        for pid in sorted(self.nfr):
            issued = rows[pid].snapshot["nfr_issued"] if pid in rows else ()
            for grant in self.nfr[pid]:
                result.append(NfrRow(grant.partner_id, grant.edition, grant.entitled_on, grant.how,
                                     edition_issued(grant.edition, issued or ()), grant.month,
                                     grant.sale_index if grant.month == month else None))
        return result


def run_engine(inbox: Inbox, rules: Rules | RuleBook, through: date | None = None,
               progress: Callable[[Iterable], Iterable] | None = None,
               months: list[date] | None = None) -> RunResult:
    """Close every month of the run (`months`, when the caller has already worked them out),
    each under the rules in force in it (R18)."""
    months = months or run_months(inbox, through)
    return RunResult(rule_book(rules), list(close_months(inbox, rules, months, progress)), inbox.problems,
                     inbox.reports)


def close_months(inbox: Inbox, rules: Rules | RuleBook, months: list[date],
                 progress: Callable[[Iterable], Iterable] | None = None) -> Iterator[MonthResult]:
    """Each month's result as soon as it is closed, in order. A month is final once closed
    (later months never change it), so its workbook can be written while later months are
    still being closed."""
    programme = Programme(inbox, rule_book(rules), months)
    for month in (progress(months) if progress else months):
        yield programme.close_month(month)
