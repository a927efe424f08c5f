"""Row decisions that need the whole inbox (I6, I7): duplicates across files, currencies and
their rates, known partners, rows outside the run; then the typed frames the engine reads."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Iterable

import numpy as np
import pandas as pd

from ..months import month_of, next_month
from ..problems import DUPLICATE, ERROR, NOTE, NOTED, WARNING, Problem
from ..rules import excel_round
from .kinds import DATED_KINDS, KINDS, MONEY_TYPES, PROVENANCE
from .rows import Rows
from .values import show


def content(record: dict) -> tuple:
    return tuple((k, record[k]) for k in record if k not in PROVENANCE)


def where(record: dict) -> str:
    return f"{record['source_file']} [{record['source_sheet']}] row {record['source_row']}"


def drop_duplicates(kind: str, rows: Rows, reports: dict, problems: list[Problem]) -> Rows:
    """Same key twice: same content is counted once; different content, the later wins (I7)."""
    key_fields = KINDS[kind].key
    keys = list(zip(*(rows[k] for k in key_fields))) if len(key_fields) > 1 else rows[key_fields[0]]
    # a million rows hold a few repeated keys (found by pandas' hash table): only their rows are
    # grouped, as dicts, and compared
    repeated = np.flatnonzero(pd.Series(keys, dtype=object).duplicated(keep=False).to_numpy())
    groups: dict[object, list[dict]] = defaultdict(list)
    at: dict[int, int] = {}  # id() of a grouped record -> its row
    for i in repeated.tolist():
        record = rows.record(i)
        groups[keys[i]].append(record)
        at[id(record)] = i
    dropped = []
    for key, group in groups.items():
        winner_content = content(group[-1])
        winner = next(r for r in group if content(r) == winner_content)
        values = key if len(key_fields) > 1 else (key,)
        label = " / ".join(show(k) for k in values if k not in ("", None)) or "(blank)"
        conflicted = False
        for record in group:
            if record is winner:
                continue
            dropped.append(at[id(record)])
            report = reports[(record["source_file"], record["source_sheet"])]
            report.duplicates += 1
            column = report.header(key_fields[0])
            if content(record) == winner_content:
                problems.append(Problem(record["source_file"], record["source_sheet"],
                                        record["source_row"], column, label,
                                        f"exact duplicate of {where(winner)}: nothing to do",
                                        "counted once",
                                        DUPLICATE))
            else:
                conflicted = True
                problems.append(Problem(record["source_file"], record["source_sheet"],
                                        record["source_row"], column, label,
                                        f"the same {column} appears with different content in the later "
                                        f"{where(winner)}: correct the row that is wrong, or remove it",
                                        "superseded by the later row", ERROR))
        if conflicted:
            column = reports[(winner["source_file"], winner["source_sheet"])].header(key_fields[0])
            problems.append(Problem(winner["source_file"], winner["source_sheet"],
                                    winner["source_row"], column, label,
                                    f"the same {column} appears with different content in an earlier row: "
                                    "correct the row that is wrong, or remove it",
                                    "this later row is used", WARNING))
    return rows.without(sorted(dropped))


def reject(record: dict, column: str, value: object, message: str, reports: dict,
           problems: list[Problem]) -> None:
    report = reports[(record["source_file"], record["source_sheet"])]
    report.rejected += 1
    problems.append(Problem(record["source_file"], record["source_sheet"], record["source_row"],
                            report.header(column), show(value), message, "row rejected"))


def joined_on(partner_rows: Iterable[dict]) -> dict[str, date | None]:
    """Each partner's earliest joined_on over its snapshots (None when no snapshot gives one)."""
    joined: dict[str, date | None] = {}
    for partner in partner_rows:
        day, known = partner["joined_on"], joined.get(partner["partner_id"])
        joined[partner["partner_id"]] = min(day, known) if day and known else day or known
    return joined


def check_adjustments(rows: Rows, reports: dict, problems: list[Problem]) -> Rows:
    """R17: an adjustment changes points, a status or both; `until` extends a status past its
    own month. Anything else is a correction that would do nothing, or not what was meant."""
    dropped = []
    for i, record in enumerate(rows.records()):
        if not record["points"] and not record["status"]:
            reject(record, "points", record["points"],
                   "an adjustment needs points, a status or both: fill in what it corrects", reports, problems)
        elif record["until"] is not None and not record["status"]:
            reject(record, "until", f"{record['until']:%Y-%m}",
                   "until holds a status: fill in the status, or clear until", reports, problems)
        elif record["until"] is not None and record["until"] <= month_of(record["date"]):
            reject(record, "until", f"{record['until']:%Y-%m}",
                   f"until must be a month after the adjustment's own ({record['date']:%Y-%m})",
                   reports, problems)
        else:
            continue
        dropped.append(i)
    return rows.without(dropped)


def in_usd(sales: Rows, rates: dict[tuple[str, date], float], reports: dict, problems: list[Problem]) -> Rows:
    """Sales with their amount in USD: given, or the amount itself when in USD, or converted at
    its currency's rate for the month (I6, as ROUND(,2)); with no rate, the row is rejected."""
    amount_usd, usd_rate, dropped = list(sales["amount_usd"]), [None] * len(sales), []
    for i in [i for i, usd in enumerate(amount_usd) if usd is None]:
        currency = sales["currency"][i] or ""
        if currency in ("", "USD"):
            amount_usd[i] = sales["amount"][i]
            continue
        month = month_of(sales["invoice_date"][i])
        rate = rates.get((currency, month))
        if rate is None:
            reject(sales.record(i), "currency", currency,
                   f"no {currency} rate for {month:%Y-%m} (add it to a rates sheet: currency, month, usd_rate)",
                   reports, problems)
            dropped.append(i)
            continue
        usd_rate[i] = rate
        amount_usd[i] = excel_round(sales["amount"][i] * rate, 2)  # I6, as ROUND(,2)
    return sales.with_columns(amount_usd=amount_usd, usd_rate=usd_rate).without(dropped)


def settle(records: dict[str, Rows], reports: dict, problems: list[Problem],
           through: date | None, rejected_partners: dict[str, str] | None = None) -> dict[str, Rows]:
    """Row decisions that need the whole inbox: rates, known partners, dates in the run."""
    rates = dict(zip(zip(records["rates"]["currency"], records["rates"]["month"]), records["rates"]["usd_rate"]))
    records = dict(records, sales=in_usd(records["sales"], rates, reports, problems),
                   adjustments=check_adjustments(records["adjustments"], reports, problems))

    joined = joined_on(records["partners"].records())
    # the month each partner joined: a day before that month's first day is before it joined
    joined_month = {pid: month_of(day) for pid, day in joined.items() if day is not None}

    limit = next_month(through) if through is not None else None
    later: dict[tuple[str, str, str], int] = defaultdict(int)  # (file, sheet, column) -> rows
    settled = {"partners": records["partners"], "rates": records["rates"]}
    for spec in DATED_KINDS:
        kind, column = spec.name, spec.date_field
        rows = records[kind]
        partners = rows["partner_id"] if "partner_id" in rows else None  # leads name no partner
        dropped = []
        for i, day in enumerate(rows[column]):
            if partners is not None:
                pid = partners[i]
                if pid not in joined:
                    why = (f"partner's own row was rejected ({rejected_partners[pid]}): correct that row"
                           if pid in (rejected_partners or {}) else
                           "unknown partner (not in any partners sheet): add the partner or correct the ID")
                    reject(rows.record(i), "partner_id", pid, why, reports, problems)
                    dropped.append(i)
                    continue
                if pid in joined_month and day < joined_month[pid]:
                    reject(rows.record(i), column, day,
                           f"dated before partner {pid} joined the programme ({joined[pid]:%Y-%m}): "
                           "correct the date or the partner's Joined On",
                           reports, problems)
                    dropped.append(i)
                    continue
            if limit is not None and day >= limit:
                later[(rows["source_file"][i], rows["source_sheet"][i], column)] += 1
                dropped.append(i)
        settled[kind] = rows.without(dropped)
    # I7: rows dated after --through are not wrong: accepted, not used, and noted once per sheet.
    for (file, sheet, column), count in later.items():
        report = reports[(file, sheet)]
        report.accepted += count
        rows = "1 row" if count == 1 else f"{count} rows"
        problems.append(Problem(file, sheet, None, report.header(column), "",
                                f"{rows} dated after {through:%Y-%m}, outside this run (--through)",
                                NOTED, NOTE))
    return settled


# Money of events and rates is float (NaN when blank); a partner's commitment stays None (R7).
FLOAT_FIELDS = {f.name for kind in KINDS.values() if kind.name != "partners"
                for f in kind.fields if f.type in MONEY_TYPES} | {"usd_rate"}


def to_frame(kind: str, records: Rows | list[dict]) -> pd.DataFrame:
    """Typed rows (or dicts) as a frame: amounts as floats (NaN when blank), everything else as
    the Python values the parsers made (None stays None, dates stay dates)."""
    columns = KINDS[kind].names + PROVENANCE + list(KINDS[kind].extra)
    rows = records if isinstance(records, Rows) else Rows.from_records(records, columns)
    data = {}
    for column in columns:
        values = rows[column] if column in rows else [None] * len(rows)
        if column in FLOAT_FIELDS:  # numpy reads None as NaN
            data[column] = pd.Series(np.array(values, dtype=float))
        elif column == "source_row":
            data[column] = pd.Series(values, dtype="int64")
        else:
            data[column] = pd.Series(values, dtype=object)
    return pd.DataFrame(data, columns=columns)
