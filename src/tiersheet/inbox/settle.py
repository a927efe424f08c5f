"""Row decisions that need the whole inbox (I6, I7): duplicates across files, currencies and
their rates, known partners, rows outside the run; then the typed frames the engine reads."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from operator import itemgetter
from typing import Iterable

import numpy as np
import pandas as pd

from ..months import month_of, next_month
from ..problems import DUPLICATE, ERROR, NOTE, NOTED, WARNING, Problem
from ..rules import excel_round
from .kinds import DATED_KINDS, KINDS, MONEY_TYPES, PROVENANCE
from .values import show


def content(record: dict) -> tuple:
    return tuple((k, record[k]) for k in record if k not in PROVENANCE)


def where(record: dict) -> str:
    return f"{record['source_file']} [{record['source_sheet']}] row {record['source_row']}"


def drop_duplicates(kind: str, records: list[dict], reports: dict, problems: list[Problem]) -> list[dict]:
    """Same key twice: same content is counted once; different content, the later wins (I7)."""
    key_fields = KINDS[kind].key
    keys = list(map(itemgetter(*key_fields), records))  # the key's value, or a tuple of its values
    repeated = {key for key, count in Counter(keys).items() if count > 1}
    if not repeated:
        return records
    # a million rows hold a few repeated keys: only their rows are grouped and compared
    groups: dict[object, list[dict]] = defaultdict(list)
    for key, record in zip(keys, records):
        if key in repeated:
            groups[key].append(record)
    dropped: set[int] = set()  # id() of the records that are not kept
    for key, group in groups.items():
        winner_content = content(group[-1])
        winner = next(r for r in group if content(r) == winner_content)
        dropped.update(id(r) for r in group if r is not winner)
        values = key if len(key_fields) > 1 else (key,)
        label = " / ".join(show(k) for k in values if k not in ("", None)) or "(blank)"
        conflicted = False
        for record in group:
            if record is winner:
                continue
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
    return [r for r in records if id(r) not in dropped]


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


def check_adjustments(records: list[dict], reports: dict, problems: list[Problem]) -> list[dict]:
    """R17: an adjustment changes points, a status or both; `until` extends a status past its
    own month. Anything else is a correction that would do nothing, or not what was meant."""
    kept = []
    for record in records:
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
            kept.append(record)
    return kept


def settle(records: dict[str, list[dict]], reports: dict, problems: list[Problem],
           through: date | None, rejected_partners: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """Row decisions that need the whole inbox: rates, known partners, dates in the run."""
    rates = {(r["currency"], r["month"]): r["usd_rate"] for r in records["rates"]}
    sales = []
    for record in records["sales"]:
        currency = record.get("currency") or ""
        if record.get("amount_usd") is None:
            if currency in ("", "USD"):
                record["amount_usd"] = record["amount"]
                record["usd_rate"] = None
            else:
                month = month_of(record["invoice_date"])
                rate = rates.get((currency, month))
                if rate is None:
                    reject(record, "currency", currency,
                           f"no {currency} rate for {month:%Y-%m} (add it to a rates sheet: currency, month, usd_rate)",
                           reports, problems)
                    continue
                record["usd_rate"] = rate
                record["amount_usd"] = excel_round(record["amount"] * rate, 2)  # I6, as ROUND(,2)
        else:
            record["usd_rate"] = None
        sales.append(record)
    records = dict(records, sales=sales, adjustments=check_adjustments(records["adjustments"], reports, problems))

    joined = joined_on(records["partners"])
    # the month each partner joined: a day before that month's first day is before it joined
    joined_month = {pid: month_of(day) for pid, day in joined.items() if day is not None}

    limit = next_month(through) if through is not None else None
    later: dict[tuple[str, str, str], int] = defaultdict(int)  # (file, sheet, column) -> rows
    settled = {"partners": records["partners"], "rates": records["rates"]}
    for spec in DATED_KINDS:
        kind, column = spec.name, spec.date_field
        kept = []
        for record in records[kind]:
            day = record[column]
            if "partner_id" in record:
                pid = record["partner_id"]
                if pid not in joined:
                    why = (f"partner's own row was rejected ({rejected_partners[pid]}): correct that row"
                           if pid in (rejected_partners or {}) else
                           "unknown partner (not in any partners sheet): add the partner or correct the ID")
                    reject(record, "partner_id", pid, why, reports, problems)
                    continue
                if pid in joined_month and day < joined_month[pid]:
                    reject(record, column, day,
                           f"dated before partner {pid} joined the programme ({joined[pid]:%Y-%m}): "
                           "correct the date or the partner's Joined On",
                           reports, problems)
                    continue
            if limit is not None and day >= limit:
                later[(record["source_file"], record["source_sheet"], column)] += 1
                continue
            kept.append(record)
        settled[kind] = kept
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


def to_frame(kind: str, records: list[dict]) -> pd.DataFrame:
    """Typed records as a frame: amounts as floats (NaN when blank), everything else as the
    Python values the parsers made (None stays None, dates stay dates)."""
    columns = KINDS[kind].names + PROVENANCE + list(KINDS[kind].extra)
    data = {}
    for column in columns:
        values = [record.get(column) for record in records]
        if column in FLOAT_FIELDS:  # numpy reads None as NaN
            data[column] = pd.Series(np.array(values, dtype=float))
        elif column == "source_row":
            data[column] = pd.Series(values, dtype="int64")
        else:
            data[column] = pd.Series(values, dtype=object)
    return pd.DataFrame(data, columns=columns)
