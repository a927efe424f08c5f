"""The channel team's workbook, one per month (O1-O4).

Every derived number is written as a live formula together with the engine's value as its
cached result, so the file opens with figures everywhere and an auditor can click any cell to
see how it came about. Parameters come from the Rules sheet through defined names; other rows
are reached by direct references, never whole columns. Input text is always written as text.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from . import rules as R
from .config import Rules
from .engine import MonthResult, PartnerMonth, RunResult
from .outputs import atomic_output
from .problems import DUPLICATE
from .xlsx import Book, Column, Table, fit_row, page_header, print_setup, text_literal

def name_for(*parts: str) -> str:
    """A defined name such as THRESHOLD_GOLD from rules keys."""
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_").upper() for p in parts)


# --- the Rules sheet ---------------------------------------------------------------------------

def rules_rows(rules: Rules, month: date, end: date) -> list[tuple[str, str, object, str]]:
    """(R-number, defined name, value, meaning) for every parameter in force."""
    rows: list[tuple[str, str, object, str]] = [
        ("R2", "MONTH_START", month, "First day of this workbook's month"),
        ("R2", "MONTH_END", end, "Last day of this workbook's month (month close)"),
    ]
    rows += [("R1", name_for("LEVEL", lv.key), lv.name, f"Level {lv.rank}") for lv in rules.levels]
    rows += [("R1", name_for("THRESHOLD", lv.key), lv.threshold, f"Points required for {lv.name}")
             for lv in rules.levels]
    rows += [("R11", name_for("MARGIN", lv.key), lv.margin, f"Margin of {lv.name}") for lv in rules.levels]
    rows += [("R13", name_for("NFR", lv.key), lv.nfr_edition, f"NFR edition for {lv.name}")
             for lv in rules.levels]
    for lv in rules.levels:
        for req in rules.requirements:
            needed = rules.required(lv, req)
            if needed:
                rows.append(("R6" if req.kind != "commitment" else "R7",
                             name_for("REQ", lv.key, req.key),
                             needed if req.kind == "count" else True,
                             f"{lv.name}: {req.label}" + (" (at least)" if req.kind == "count" else "")))
    rows += [("R5", name_for("ACTIVITY", a.key), a.key, a.label) for a in rules.activities]
    rows += [("R5", name_for("POINTS", a.key), a.points, f"Points for {a.label}") for a in rules.activities]
    rows += [("R5", name_for("APPROVAL", a.key), a.needs_approval, f"{a.label} needs prior approval")
             for a in rules.activities]
    rows += [
        ("R3", "USD_PER_POINT", rules.usd_per_point, "US dollars of sales per point (truncated)"),
        ("R4", "BONUS_LEVEL", rules.level(rules.bonus_level).name, "Level that earns the early-adopter bonus"),
        ("R4", "BONUS_POINTS", rules.bonus_points, "Bonus points per whole BONUS_PER_USD"),
        ("R4", "BONUS_PER_USD", rules.bonus_per_usd, "US dollars per bonus step"),
        ("R4", "BONUS_FROM", rules.bonus_from, "Bonus window start (blank: none)"),
        ("R4", "BONUS_UNTIL", rules.bonus_until, "Bonus window end (blank: none)"),
        ("R7", "COMMITMENT_LEVEL", rules.level(rules.commitment_level).name, "Level whose whole quarters are checked against the commitment"),
        ("R10", "CERT_MONTHS", rules.valid_months, "Months a certificate is valid"),
        ("R10", "DOWNGRADE_MODE", rules.downgrade, "expiry: downgrade at certificate expiry; month_end: at the first failing month close"),
        ("R12", "FIRST_SALE_PRODUCT", rules.first_sale_product, "Product of the first-sale discount"),
        ("R12", "FIRST_SALE_TYPE", rules.first_sale_type, "Sale type of the first-sale discount"),
        ("R12", "FIRST_SALE_DISCOUNT", rules.first_sale_discount, "Extra discount off the partner's cost"),
        ("R13", "NFR_FIRST_SALE_LEVEL", rules.level(rules.nfr_first_sale_level).name, "Level granted an NFR after its first Intranet sale"),
        ("R14", "LEADS_LEVEL", rules.level(rules.leads_level).name, "Level that receives leads"),
        ("R15", "COOP_MIN_LEVEL", rules.level(rules.coop_min_level).name, "Lowest level reimbursed for co-op marketing"),
        ("R15", "COOP_SHARE", rules.coop_share, "Share of the expense reimbursed (at most the requested amount)"),
        ("I7", "MAX_AMOUNT_USD", rules.max_amount_usd, "Amounts beyond this are rejected as absurd"),
    ]
    return rows


def write_rules(book: Book, rules: Rules, month: date, end: date, source: str) -> dict[str, str]:
    """Write the Rules sheet and define a name for each parameter; returns name -> cell."""
    sheet = book.xl.add_worksheet("Rules")
    columns = (("Rule", 7, None), ("Name", 44, book.styles["wrap"]), ("Value", 30, book.styles["wrap"]),
               ("Meaning", 52, book.styles["wrap"]))
    for i, (header, width, fmt) in enumerate(columns):
        sheet.set_column(i, i, width, fmt)  # the format of the cells written without one
        sheet.write_string(0, i, header, book.styles["header"])
    sheet.freeze_panes(1, 0)
    widths = [width for _, width, _ in columns]
    print_setup(sheet, book.title, widths)
    cells = {}
    rows = rules_rows(rules, month, end)
    for r, (rule, name, value, meaning) in enumerate(rows, start=1):
        fit_row(sheet, r, [(name, widths[1]), (value, widths[2]), (meaning, widths[3])])
        sheet.write_string(r, 0, rule)
        sheet.write_string(r, 1, name)
        style = "date" if isinstance(value, date) else "pct" if name.startswith(("MARGIN_", "FIRST_SALE_DISCOUNT", "COOP_SHARE")) else "text"
        book.put(sheet, r, 2, value, style)
        sheet.write_string(r, 3, meaning)
        cells[name] = f"Rules!$C${r + 1}"
        book.xl.define_name(name, f"=Rules!$C${r + 1}")
    first = {prefix: min(i for i, row in enumerate(rows, start=2) if row[1].startswith(prefix))
             for prefix in ("LEVEL_", "THRESHOLD_", "MARGIN_", "ACTIVITY_", "POINTS_", "APPROVAL_")}
    for range_name, prefix, count in (("LEVEL_NAMES", "LEVEL_", len(rules.levels)),
                                      ("THRESHOLDS", "THRESHOLD_", len(rules.levels)),
                                      ("MARGINS", "MARGIN_", len(rules.levels)),
                                      ("ACTIVITY_KEYS", "ACTIVITY_", len(rules.activities)),
                                      ("ACTIVITY_POINTS", "POINTS_", len(rules.activities)),
                                      ("ACTIVITY_APPROVAL", "APPROVAL_", len(rules.activities))):
        start = first[prefix]
        book.xl.define_name(range_name, f"=Rules!$C${start}:$C${start + count - 1}")
    r = len(rows) + 2
    sheet.write_string(r, 0, "R16", book.styles["label"])
    sheet.write_string(r, 1, "Benefits by level", book.styles["section"])
    for level in rules.levels:
        for benefit in level.benefits:
            r += 1
            fit_row(sheet, r, [(level.name, widths[1]), (benefit, widths[2])])
            sheet.write_string(r, 0, "R16")
            sheet.write_string(r, 1, level.name)
            sheet.write_string(r, 2, benefit)
    r += 2
    fit_row(sheet, r, [(source, widths[2])])
    sheet.write_string(r, 1, "Rules file", book.styles["label"])
    sheet.write_string(r, 2, source)
    sheet.print_area(0, 0, r, len(columns) - 1)
    return cells


# --- the month's workbook ------------------------------------------------------------------

def partner_blocks(frame, partners: list[PartnerMonth], first_row: int = 2) -> dict[str, tuple[int, int]]:
    """partner_id -> (first, last) spreadsheet rows of its contiguous block in a sorted frame."""
    blocks: dict[str, tuple[int, int]] = {}
    if not len(frame):
        return blocks
    ids = frame["partner_id"].tolist()
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] != ids[start]:
            blocks[ids[start]] = (first_row + start, first_row + i - 1)
            start = i
    return blocks


def value(x):
    """pandas missing values as None."""
    if x is None:
        return None
    try:
        if x != x:
            return None
    except (TypeError, ValueError):
        pass
    return x


def write_month(path: Path, result: MonthResult, run: RunResult, inbox_name: str,
                rules_source: str, stats: dict | None = None) -> int:
    """Write one month's channel workbook atomically; returns the number of formula cells
    (and adds the value and formula cells written to `stats`, when given)."""
    with atomic_output(Path(path)) as temp:
        writer = MonthWriter(temp, result, run, inbox_name, rules_source)
        count = writer.write()
    if stats is not None:
        stats["values"] = stats.get("values", 0) + writer.book.values
        stats["formulas"] = stats.get("formulas", 0) + writer.book.formulas
    return count


class MonthWriter:
    def __init__(self, path: Path, result: MonthResult, run: RunResult, inbox_name: str,
                 rules_source: str):
        self.result = result
        self.run = run
        self.rules = run.rules
        self.inbox_name = inbox_name
        self.rules_source = rules_source
        self.book = Book(path, datetime(result.month.year, result.month.month, 1),
                         f"tiersheet {result.month:%Y-%m}")

    # Sheets are added in reading order; rows are written top to bottom (constant memory).
    def write(self) -> int:
        rules, result = self.rules, self.result
        levels = rules.levels
        book = self.book
        summary = book.xl.add_worksheet("Summary")
        partners = Table(book, "Partners", [
            Column("id", "Partner ID", 12), Column("name", "Partner", 24, "wrap"),
            Column("opening_status", "Opening status", 22, "wrap"), Column("opening_points", "Opening points", 10, "int"),
            Column("sales", "Sales points", 10, "int"), Column("bonus", "Bonus points", 10, "int"),
            Column("activity", "Activity points", 10, "int"), Column("closing", "Closing points", 10, "int"),
            Column("status", "Status", 22, "wrap"), Column("change", "Change", 11),
            Column("margin", "Margin %", 9, "pct"), Column("next", "Next status", 22, "wrap"),
            Column("to_next", "Points to next", 10, "int"), Column("missing", "Missing for status", 36, "wrap"),
            Column("missing_next", "Missing for next", 40, "wrap"),
            Column("expires", "Certificate expires", 12, "date"), Column("at_risk", "At risk", 8)], key_columns=2)
        ledger = Table(book, "Ledger", [
            Column("id", "Partner ID", 11), Column("date", "Date", 10, "date"),
            Column("source", "Source", 18, "wrap"), Column("reference", "Reference", 16),
            Column("amount", "Amount USD", 12, "money"), Column("points", "Points", 9, "int"),
            Column("explanation", "Explanation", 58, "wrap"), Column("file", "Source file", 14, "wrap"),
            Column("sheet", "Source sheet", 11, "wrap"), Column("row", "Source row", 8, "int")])
        sales = Table(book, "Sales", [
            Column("invoice_id", "Invoice ID", 13), Column("partner_id", "Partner ID", 11),
            Column("date", "Invoice date", 11, "date"), Column("product", "Product", 20),
            Column("edition", "Edition", 14), Column("sale_type", "Sale type", 9),
            Column("amount_usd", "Amount USD", 12, "money"), Column("status", "Status at date", 22, "wrap"),
            Column("points", "Points", 8, "int"), Column("bonus", "Bonus points", 8, "int"),
            Column("margin_pct", "Margin %", 8, "pct"), Column("margin_usd", "Margin USD", 11, "money"),
            Column("cost", "Partner cost USD", 12, "money"),
            Column("intranet", "Intranet licence", 9, "bool"),
            Column("intranet_count", "Intranet licences so far", 10, "int"),
            Column("first_sale", "First Intranet sale", 9, "bool"),
            Column("discount", "First-sale discount USD", 12, "money"),
            Column("due", "Amount due USD", 12, "money"),
            Column("amount", "Amount", 11, "money"), Column("currency", "Currency", 8),
            Column("rate", "USD rate", 9), Column("file", "Source file", 22, "wrap"),
            Column("sheet", "Source sheet", 12, "wrap"), Column("row", "Source row", 9, "int")], key_columns=2)
        activities = Table(book, "Activities", [
            Column("activity_id", "Activity ID", 12), Column("partner_id", "Partner ID", 11),
            Column("date", "Date", 11, "date"), Column("activity", "Activity", 32, "wrap"),
            Column("type", "Type", 18, "wrap"), Column("approved_on", "Approved on", 11, "date"),
            Column("description", "Description", 34, "wrap"), Column("base", "Base points", 9, "int"),
            Column("needs_approval", "Needs approval", 9, "bool"), Column("counted", "Counted", 9, "bool"),
            Column("points", "Points", 8, "int"), Column("reason", "Not counted because", 30, "wrap"),
            Column("file", "Source file", 22, "wrap"), Column("sheet", "Source sheet", 12, "wrap"),
            Column("row", "Source row", 9, "int")], key_columns=2)
        req_columns = [Column("id", "Partner ID", 12), Column("name", "Partner", 20, "wrap"),
                       Column("as_of", "Snapshot as of", 12, "date"), Column("source", "Snapshot source", 20, "wrap")]
        for req in rules.requirements:
            if req.kind == "commitment":
                req_columns += [Column("commitment_usd", "Sales commitment USD", 12, "money"),
                                Column("quarter", "Last whole quarter at " + rules.level(rules.commitment_level).name, 12),
                                Column("quarter_sales", "Quarter sales USD", 12, "money"),
                                Column(req.key, req.label + " met", 11, "bool")]
            else:
                req_columns.append(Column(req.key, req.label, 12, "int" if req.kind == "count" else "bool"))
        req_columns += [Column(f"meets_{lv.rank}", f"Meets {lv.name}", 11, "bool") for lv in levels]
        req_columns += [Column(f"missing_{lv.rank}", f"Missing for {lv.name}", 36, "wrap") for lv in levels]
        req_columns += [Column("status", "Status", 22, "wrap"), Column("meets_status", "Meets status", 10, "bool"),
                        Column("next", "Next status", 22, "wrap"), Column("meets_next", "Meets next", 10, "bool")]
        requirements = Table(book, "Requirements", req_columns, key_columns=2)
        close = Table(book, "Month close", [
            Column("id", "Partner ID", 12), Column("opening_status", "Opening status", 22, "wrap"),
            Column("opening_level", "Opening level", 9, "int"), Column("points_before", "Points before close", 11, "int"),
            *[Column(f"meets_{lv.rank}", f"Meets {lv.name}", 11, "bool") for lv in levels],
            Column("cert", "Certificate on file expires", 12, "date"), Column("cert_note", "Certificate on file", 30, "wrap"),
            Column("lapsed_before", "Lapsed at an earlier close", 10, "bool"),
            Column("expiring", "Expires by month end", 10, "bool"), Column("meets_opening", "Meets opening level", 10, "bool"),
            Column("downgrade", "Downgrade", 10, "bool"), Column("down_to", "Downgrade to level", 10, "int"),
            Column("up_to", "Upgrade to level", 10, "int"), Column("closing_level", "Closing level", 9, "int"),
            Column("intranet_used", "Intranet discount used before", 11, "bool"),
            Column("intranet_note", "Why", 30, "wrap")])
        nfr = Table(book, "NFR", [Column("id", "Partner ID", 12), Column("edition", "Edition", 34, "wrap"),
                                  Column("entitled_on", "Entitled on", 12, "date"),
                                  Column("issued", "Issued or To issue", 14, "wrap")])
        leads = Table(book, "Leads", [
            Column("lead_id", "Lead ID", 12), Column("received_on", "Received on", 10, "date"),
            Column("territory", "Territory", 9), Column("company", "Company", 22, "wrap"), Column("contact", "Contact", 18, "wrap"),
            Column("assigned", "Assigned to", 11), Column("reason", "Reason", 40, "wrap"),
            Column("file", "Source file", 14, "wrap"), Column("sheet", "Source sheet", 11, "wrap"), Column("row", "Source row", 8, "int")])
        coop = Table(book, "Co-op", [
            Column("claim_id", "Claim ID", 12), Column("partner_id", "Partner ID", 11), Column("date", "Date", 11, "date"),
            Column("expense", "Expense USD", 12, "money"), Column("requested", "Requested USD", 12, "money"),
            Column("description", "Description", 30, "wrap"), Column("status", "Status at date", 22, "wrap"),
            Column("eligible", "Eligible", 9, "bool"), Column("reimbursement", "Reimbursement USD", 13, "money"),
            Column("reason", "Reason", 36, "wrap"), Column("file", "Source file", 22, "wrap"),
            Column("sheet", "Source sheet", 12, "wrap"), Column("row", "Source row", 9, "int")], key_columns=2)
        exceptions = Table(book, "Exceptions", [
            Column("file", "File", 22, "wrap"), Column("sheet", "Sheet", 14, "wrap"), Column("row", "Row", 7, "int"),
            Column("column", "Column", 16, "wrap"), Column("value", "Value", 20, "wrap"),
            Column("problem", "Problem", 50, "wrap"), Column("action", "Action", 22, "wrap")])
        reconciliation = Table(book, "Reconciliation", [
            Column("file", "File", 24, "wrap"), Column("sheet", "Sheet", 14, "wrap"), Column("kind", "Kind", 28, "wrap"),
            Column("read", "Rows read", 10, "int"), Column("accepted", "Accepted", 10, "int"),
            Column("rejected", "Rejected", 10, "int"), Column("duplicates", "Duplicates", 10, "int")])
        write_rules(book, rules, result.month, result.end, self.rules_source)

        rows = {p.partner_id: i + 2 for i, p in enumerate(result.partners)}
        sales_blocks = partner_blocks(result.sales, result.partners)
        activity_blocks = partner_blocks(result.activities, result.partners)
        self.tables = dict(partners=partners, ledger=ledger, sales=sales, activities=activities,
                           requirements=requirements, close=close)
        self._partners(partners, requirements, close, sales, activities, sales_blocks, activity_blocks)
        self._requirements(requirements, close, partners, sales, sales_blocks)
        self._close(close, partners, requirements)
        self._sales(sales, partners, close, rows)
        self._activities(activities)
        self._ledger(ledger, partners, sales, activities, sales_blocks, activity_blocks)
        self._nfr(nfr, sales)
        self._leads(leads)
        self._coop(coop, partners, rows)
        self._exceptions(exceptions)
        self._reconciliation(reconciliation)
        self._summary(summary, partners, sales, coop, leads, exceptions, reconciliation)
        for table in (partners, ledger, sales, activities, requirements, close, nfr, leads, coop,
                      exceptions, reconciliation):
            table.finish()
        book.close()
        return book.formulas

    # -- Partners (O2): every derived column reads Month close, Requirements and the event sheets
    def _partners(self, partners, requirements, close, sales, activities, sales_blocks, activity_blocks):
        levels = self.rules.levels
        n = len(levels)
        mc = {key: close.ref + "!" + close.letter[key] + "#" for key in close.letter}
        meets = f"{close.ref}!{close.letter['meets_1']}#:{close.letter[f'meets_{n}']}#"
        missing = ",".join(f"{requirements.ref}!{requirements.letter[f'missing_{lv.rank}']}#" for lv in levels)
        level = mc["closing_level"]
        t = partners.template
        closing_f = t(f"=IF({mc['downgrade']},INDEX(THRESHOLDS,{level}),{mc['points_before']})")
        status_f = f"=INDEX(LEVEL_NAMES,{level})"
        change_f = (f'=IF({mc["downgrade"]},"Downgrade",IF({level}>{mc["opening_level"]},"Upgrade",'
                    f'IF({mc["expiring"]},IF({mc["meets_opening"]},"Renewed",IF({mc["lapsed_before"]},"","Lapsed")),"")))')
        margin_f = f"=INDEX(MARGINS,{level})"
        next_f = f'=IF({level}<ROWS(LEVEL_NAMES),INDEX(LEVEL_NAMES,{level}+1),"")'
        to_next_f = t(f'=IF({level}<ROWS(LEVEL_NAMES),MAX(0,INDEX(THRESHOLDS,{level}+1)-{{closing}}),"")')
        missing_f = f"=CHOOSE({level},{missing})"
        missing_next_f = f'=IF({level}<ROWS(LEVEL_NAMES),CHOOSE({level}+1,{missing}),"")'
        renew = f"EDATE({mc['cert']},CERT_MONTHS)"
        expires_f = (f"=IF(OR({mc['downgrade']},{level}>{mc['opening_level']}),EDATE(MONTH_END,CERT_MONTHS),"
                     f"IF(AND({mc['expiring']},{mc['meets_opening']}),IF({renew}>MONTH_END,{renew},"
                     f"EDATE(MONTH_END,CERT_MONTHS)),{mc['cert']}))")
        at_risk_f = f'=IF(INDEX({meets},1,{level}),"no","yes")'
        buffer = []
        for p in self.result.partners:
            status = levels[p.rank - 1]
            nxt = levels[p.rank] if p.rank < n else None
            s = sales_blocks.get(p.partner_id)
            a = activity_blocks.get(p.partner_id)
            formulas = {
                "sales": (f"=SUM({sales.span('points', *s)})" if s else "=0", p.sales_points),
                "bonus": (f"=SUM({sales.span('bonus', *s)})" if s else "=0", p.bonus_points),
                "activity": (f"=SUM({activities.span('points', *a)})" if a else "=0", p.activity_points),
                "closing": (closing_f, p.closing_points),
                "status": (status_f, status.name),
                "change": (change_f, p.change),
                "margin": (margin_f, status.margin),
                "next": (next_f, nxt.name if nxt else ""),
                "to_next": (to_next_f, max(0, nxt.threshold - p.closing_points) if nxt else ""),
                "missing": (missing_f, "; ".join(p.missing[p.rank])),
                "missing_next": (missing_next_f, "; ".join(p.missing[nxt.rank]) if nxt else ""),
                "expires": (expires_f, p.certificate_expires),
                "at_risk": (at_risk_f, "no" if p.meets[p.rank] else "yes"),
            }
            buffer.append(({"id": p.partner_id, "name": p.name,
                            "opening_status": levels[p.opening_rank - 1].name,
                            "opening_points": p.opening_points}, formulas))
        partners.write_rows(buffer)

    # -- Requirements (R6, R7): the snapshot's values, met or not per level, what is missing
    def _requirements(self, requirements, close, partners, sales, sales_blocks):
        rules, levels = self.rules, self.rules.levels
        t = requirements.template
        meets_f, missing_f = {}, {}
        for lv in levels:
            conditions, parts = [], []
            for req in rules.requirements:
                needed = rules.required(lv, req)
                if not needed:
                    continue
                cell = "{" + req.key + "}"
                if req.kind == "yes":
                    conditions.append(cell)
                    parts.append(f'IF({cell},"",{text_literal(req.label)})')
                elif req.kind == "count":
                    limit = name_for("REQ", lv.key, req.key)
                    conditions.append(f"{cell}>={limit}")
                    parts.append(f'IF({cell}>={limit},"",{text_literal(req.label + ": ")}&{cell}&" of "&{limit})')
                else:
                    conditions.append(cell)
                    parts.append(f'IF({cell},"",{text_literal(req.label + ": ")}&IF({{commitment_usd}}>0,'
                                 f'TRUNC({{quarter_sales}})&" of "&TRUNC({{commitment_usd}})&" USD in the last quarter",'
                                 f'"no volume agreed"))')
            meets_f[lv.rank] = t("=AND(" + ",".join(conditions) + ")") if conditions else "=TRUE"
            missing_f[lv.rank] = t('=_xlfn.TEXTJOIN("; ",TRUE,' + ",".join(parts) + ")") if parts else '=""'
        commitment_f = t("=AND({commitment_usd}>0,OR({quarter}=\"\",{quarter_sales}>={commitment_usd}))")
        level = close.ref + "!" + close.letter["closing_level"] + "#"
        meets_range = t("{meets_1}") + ":" + t("{meets_" + str(len(levels)) + "}")
        buffer = []
        for p in self.result.partners:
            snap = p.snapshot
            values = {"id": p.partner_id, "name": p.name, "as_of": snap["as_of"] or "all months",
                      "source": f"{snap['source_file']} row {snap['source_row']}"}
            formulas = {}
            for req in rules.requirements:
                if req.kind == "commitment":
                    values["commitment_usd"] = value(snap["sales_commitment_usd"])
                    values["quarter"] = p.quarter_label
                    if p.quarter_includes_month:
                        block = sales_blocks.get(p.partner_id)
                        extra = f"+SUM({sales.span('amount_usd', *block)})" if block else ""
                        formulas["quarter_sales"] = (f"={p.quarter_prior_sales!r}{extra}", p.quarter_sales)
                    else:
                        values["quarter_sales"] = p.quarter_sales
                    formulas[req.key] = (commitment_f, p.commitment_met)
                elif req.kind == "count":
                    values[req.key] = int(snap.get(req.key) or 0)
                else:
                    values[req.key] = bool(snap.get(req.key))
            for lv in levels:
                formulas[f"meets_{lv.rank}"] = (meets_f[lv.rank], p.meets[lv.rank])
                formulas[f"missing_{lv.rank}"] = (missing_f[lv.rank], "; ".join(p.missing[lv.rank]))
            n = len(levels)
            formulas["status"] = (f"={partners.ref}!{partners.letter['status']}#", levels[p.rank - 1].name)
            formulas["meets_status"] = (f"=INDEX({meets_range},1,{level})", p.meets[p.rank])
            formulas["next"] = (f"={partners.ref}!{partners.letter['next']}#", levels[p.rank].name if p.rank < n else "")
            formulas["meets_next"] = (f'=IF({level}<ROWS(LEVEL_NAMES),INDEX({meets_range},1,{level}+1),"")',
                                      p.meets[p.rank + 1] if p.rank < n else "")
            buffer.append((values, formulas))
        requirements.write_rows(buffer)

    # -- Month close (R8, R10): how the closing level came about
    def _close(self, close, partners, requirements):
        levels = self.rules.levels
        n = len(levels)
        t = close.template
        pr = {key: partners.ref + "!" + partners.letter[key] + "#" for key in partners.letter}
        rq = {key: requirements.ref + "!" + requirements.letter[key] + "#" for key in requirements.letter}
        meets_range = t("{meets_1}") + ":" + t("{meets_" + str(n) + "}")
        down_terms = "".join(f",IF(AND({{opening_level}}>{k},{{meets_{k}}}),{k},0)" for k in range(2, n))
        up_terms = "".join(f",IF(AND({{points_before}}>={name_for('THRESHOLD', lv.key)},{{meets_{lv.rank}}}),{lv.rank},0)"
                           for lv in levels[1:])
        fs = {
            "opening_status": f"={pr['opening_status']}",
            "opening_level": t("=MATCH({opening_status},LEVEL_NAMES,0)"),
            "points_before": f"=MAX(0,{pr['opening_points']}+{pr['sales']}+{pr['bonus']}+{pr['activity']})",
            "expiring": t("={cert}<=MONTH_END"),
            "meets_opening": t(f"=INDEX({meets_range},1,{{opening_level}})"),
            "downgrade": t('=AND({opening_level}>1,NOT({meets_opening}),OR({expiring},DOWNGRADE_MODE="month_end"))'),
            "down_to": t("=MAX(1" + down_terms + ")"),
            "up_to": t("=MAX({opening_level}" + up_terms + ")"),
            "closing_level": t("=IF({downgrade},{down_to},{up_to})"),
        }
        for lv in levels:
            fs[f"meets_{lv.rank}"] = f"={rq[f'meets_{lv.rank}']}"
        buffer = []
        for p in self.result.partners:
            down_to = R.downgrade_rank(p.opening_rank, p.meets)
            up_to = R.upgrade_rank(p.opening_rank, p.points_before, p.meets, self.rules)
            cached = {"opening_status": levels[p.opening_rank - 1].name, "opening_level": p.opening_rank,
                      "points_before": p.points_before, "expiring": p.expiring,
                      "meets_opening": p.meets[p.opening_rank], "downgrade": p.downgrade,
                      "down_to": down_to, "up_to": up_to, "closing_level": p.rank}
            cached.update({f"meets_{lv.rank}": p.meets[lv.rank] for lv in levels})
            why = ("snapshot says prior Intranet sale" if p.snapshot["prior_intranet_sale"] else
                   "given in an earlier month" if p.intranet_used_before else "")
            buffer.append(({"id": p.partner_id, "cert": p.certificate_on_file,
                            "cert_note": p.certificate_note, "lapsed_before": p.lapsed_before,
                            "intranet_used": p.intranet_used_before, "intranet_note": why},
                           {key: (formula, cached[key]) for key, formula in fs.items()}))
        close.write_rows(buffer)

    # -- Sales (R3, R4, R11, R12)
    def _sales(self, sales, partners, close, rows):
        t = sales.template
        bonus_window = "OR(BONUS_FROM=\"\",{date}>=BONUS_FROM),OR(BONUS_UNTIL=\"\",{date}<=BONUS_UNTIL)"
        fs = {
            "points": t("=TRUNC({amount_usd}/USD_PER_POINT)"),
            "bonus": t("=IF(AND({status}=BONUS_LEVEL," + bonus_window + "),BONUS_POINTS*TRUNC({amount_usd}/BONUS_PER_USD),0)"),
            "margin_pct": t("=INDEX(MARGINS,MATCH({status},LEVEL_NAMES,0))"),
            "margin_usd": t("={amount_usd}*{margin_pct}"),
            "cost": t("={amount_usd}-{margin_usd}"),
            "intranet": t("=AND({product}=FIRST_SALE_PRODUCT,{sale_type}=FIRST_SALE_TYPE,{amount_usd}>0)"),
            "first_sale": t("=AND({intranet},{intranet_count}=1)"),
            "discount": t("=IF({first_sale},{cost}*FIRST_SALE_DISCOUNT,0)"),
            "due": t("={cost}-{discount}"),
        }
        count_first = t("=IF({intranet},1,0)+IF(") + close.ref + "!" + close.letter["intranet_used"] + "@,1,0)"
        count_next = t("={intranet_count}") .replace("#", "$PREV$") + t("+IF({intranet},1,0)")
        status_ref = partners.ref + "!$" + partners.letter["opening_status"] + "$@"
        amount_usd_f = t("=ROUND({amount}*{rate},2)")
        frame = self.result.sales
        n = len(frame)
        if not n:
            return
        col = {name: frame[name].tolist() for name in frame.columns}
        numbers = range(2, n + 2)
        partner_rows = [str(rows[pid]) for pid in col["partner_id"]]
        first_of_block = [i == 0 or col["partner_id"][i - 1] != col["partner_id"][i] for i in range(n)]
        converted = [rate == rate and rate is not None for rate in col["usd_rate"]]
        values = {"invoice_id": col["invoice_id"], "partner_id": col["partner_id"], "date": col["invoice_date"],
                  "product": col["product"], "edition": col["edition"], "sale_type": col["sale_type"],
                  "amount": col["amount"], "currency": col["currency"], "rate": col["usd_rate"],
                  "file": col["source_file"], "sheet": col["source_sheet"], "row": col["source_row"],
                  "amount_usd": [None if c else a for c, a in zip(converted, col["amount_usd"])]}
        formulas = {key: (fs[key], col[attr]) for key, attr in (
            ("points", "points"), ("bonus", "bonus_points"), ("margin_pct", "margin_pct"),
            ("margin_usd", "margin_usd"), ("cost", "partner_cost_usd"), ("intranet", "intranet_licence"),
            ("first_sale", "first_sale"), ("discount", "first_sale_discount_usd"), ("due", "amount_due_usd"))}
        formulas["intranet"] = (fs["intranet"], [bool(v) for v in col["intranet_licence"]])
        formulas["first_sale"] = (fs["first_sale"], [bool(v) for v in col["first_sale"]])
        formulas["status"] = (["=" + status_ref.replace("@", p) for p in partner_rows], col["status_at_date"])
        formulas["intranet_count"] = (
            [(count_first.replace("@", p) if first else count_next.replace("$PREV$", str(number - 1)))
             .replace("#", str(number)) for first, p, number in zip(first_of_block, partner_rows, numbers)],
            col["intranet_count"])
        formulas["amount_usd"] = ([amount_usd_f.replace("#", str(number)) if c else None
                                   for c, number in zip(converted, numbers)], col["amount_usd"])
        sales.write_many(n, values, formulas)

    # -- Activities (R5)
    def _activities(self, activities):
        t = activities.template
        fs = {
            "base": t("=INDEX(ACTIVITY_POINTS,MATCH({type},ACTIVITY_KEYS,0))"),
            "needs_approval": t("=INDEX(ACTIVITY_APPROVAL,MATCH({type},ACTIVITY_KEYS,0))"),
            "counted": t('=OR(NOT({needs_approval}),AND({approved_on}<>"",{approved_on}<={date}))'),
            "points": t("=IF({counted},{base},0)"),
            "reason": t('=IF({counted},"",IF({approved_on}="","awaiting approval","approval dated after the activity"))'),
        }
        frame = self.result.activities
        if not len(frame):
            return
        col = {name: frame[name].tolist() for name in frame.columns}
        values = {"activity_id": col["activity_id"], "partner_id": col["partner_id"], "date": col["date"],
                  "activity": col["activity_text"], "type": col["activity"], "approved_on": col["approved_on"],
                  "description": col["description"], "file": col["source_file"], "sheet": col["source_sheet"],
                  "row": col["source_row"]}
        cached = {"base": col["base_points"], "needs_approval": [bool(v) for v in col["needs_approval"]],
                  "counted": [bool(v) for v in col["counted"]], "points": col["points"], "reason": col["reason"]}
        activities.write_many(len(frame), values, {key: (fs[key], cached[key]) for key in fs})

    # -- Ledger (O3): every point movement, traceable to its source row. Built as columns (a
    # million sale lines make a million ledger rows) and ordered by partner, then opening
    # balance, sales (each followed by its bonus), activities, month-close adjustment.
    def _ledger(self, ledger, partners, sales, activities, sales_blocks, activity_blocks):
        rules, result = self.rules, self.result
        bonus_level = rules.level(rules.bonus_level).name
        position = {p.partner_id: i for i, p in enumerate(result.partners)}
        prows = pd.Series(range(2, len(result.partners) + 2), dtype="int64").astype(str)
        pieces = [pd.DataFrame({
            "order": range(len(result.partners)), "section": 0, "seq": 0,
            "id": [p.partner_id for p in result.partners], "date": result.month,
            "source": "Opening balance", "explanation": [f"Opening points: {p.opening_note}" for p in result.partners],
            "points_f": "=" + partners.ref + "!$" + partners.letter["opening_points"] + "$" + prows,
            "points": [p.opening_points for p in result.partners],
            "target": "Partners!D" + prows, "text": "Partners row " + prows})]
        frame = result.sales
        if len(frame):
            numbers = pd.Series(range(2, len(frame) + 2), dtype="int64").astype(str)
            common = {"order": frame["partner_id"].map(position).to_numpy(), "section": 1,
                      "id": frame["partner_id"].to_numpy(), "date": frame["invoice_date"].to_numpy(),
                      "file": frame["source_file"].to_numpy(), "sheet": frame["source_sheet"].to_numpy(),
                      "row": frame["source_row"].to_numpy(), "amount": frame["amount_usd"].to_numpy(),
                      "amount_f": ("=" + sales.ref + "!$" + sales.letter["amount_usd"] + "$" + numbers).to_numpy(),
                      "target": ("Sales!A" + numbers).to_numpy(), "text": frame["invoice_id"].to_numpy()}
            seq = np.arange(len(frame)) * 2
            pieces.append(pd.DataFrame(dict(
                common, seq=seq, source=np.where(frame["amount_usd"] < 0, "Credit note", "Sale"),
                explanation="R3: 1 point per whole USD_PER_POINT of the amount, truncated",
                points_f=("=" + sales.ref + "!$" + sales.letter["points"] + "$" + numbers).to_numpy(),
                points=frame["points"].to_numpy())))
            bonus = (frame["status_at_date"] == bonus_level).to_numpy()
            if bonus.any():
                pieces.append(pd.DataFrame(dict(
                    {key: value[bonus] if isinstance(value, np.ndarray) else value for key, value in common.items()},
                    seq=seq[bonus] + 1, source="Early-adopter bonus",
                    explanation=f"R4: BONUS_POINTS per whole BONUS_PER_USD while {bonus_level}",
                    points_f=("=" + sales.ref + "!$" + sales.letter["bonus"] + "$" + numbers).to_numpy()[bonus],
                    points=frame["bonus_points"].to_numpy()[bonus])))
        frame = result.activities
        if len(frame):
            numbers = pd.Series(range(2, len(frame) + 2), dtype="int64").astype(str)
            labels = {a.key: a.label for a in rules.activities}
            why = frame["reason"].map(lambda reason: f" (not counted: {reason})" if reason else "")
            pieces.append(pd.DataFrame({
                "order": frame["partner_id"].map(position).to_numpy(), "section": 2,
                "seq": np.arange(len(frame)), "id": frame["partner_id"].to_numpy(),
                "date": frame["date"].to_numpy(), "source": "Activity",
                "explanation": ("R5: " + frame["activity"].map(labels) + why).to_numpy(),
                "file": frame["source_file"].to_numpy(), "sheet": frame["source_sheet"].to_numpy(),
                "row": frame["source_row"].to_numpy(),
                "points_f": ("=" + activities.ref + "!$" + activities.letter["points"] + "$" + numbers).to_numpy(),
                "points": frame["points"].to_numpy(), "target": ("Activities!A" + numbers).to_numpy(),
                "text": frame["activity_id"].to_numpy()}))
        adjustments = []
        for i, p in enumerate(result.partners):
            adjustment = p.closing_points - (p.opening_points + p.sales_points + p.bonus_points + p.activity_points)
            if adjustment:
                prow = i + 2
                refs = "+".join(partners.cell(k, prow) for k in ("opening_points", "sales", "bonus", "activity"))
                adjustments.append({
                    "order": i, "section": 3, "seq": 0, "id": p.partner_id, "date": result.end,
                    "source": "Month close",
                    "explanation": ("R10: downgraded, points set to the new level's threshold" if p.downgrade
                                    else "R3: the balance never goes below 0"),
                    "points_f": f"={partners.cell('closing', prow)}-({refs})", "points": adjustment,
                    "target": f"Partners!H{prow}", "text": f"Partners row {prow}"})
        if adjustments:
            pieces.append(pd.DataFrame(adjustments))
        rows = pd.concat(pieces, ignore_index=True)
        rows = rows.iloc[np.lexsort((rows["seq"].to_numpy(), rows["section"].to_numpy(), rows["order"].to_numpy()))]
        column = {key: (rows[key].tolist() if key in rows else [None] * len(rows)) for key in (
            "id", "date", "source", "explanation", "file", "sheet", "row", "amount_f", "amount",
            "points_f", "points", "target", "text")}
        column["amount_f"] = [f if isinstance(f, str) else None for f in column["amount_f"]]
        column["row"] = [None if r is None or r != r else int(r) for r in column["row"]]
        ledger.write_many(len(rows), {key: column[key] for key in ("id", "date", "source", "explanation", "file", "sheet", "row")},
                          {"amount": (column["amount_f"], column["amount"]),
                           "points": (column["points_f"], column["points"])},
                          {"reference": (column["target"], column["text"])})

    # -- NFR (R13)
    def _nfr(self, nfr, sales):
        for grant in self.result.nfr:
            formulas = {}
            values = {"id": grant.partner_id, "edition": grant.edition,
                      "issued": "Issued" if grant.issued else "To issue"}
            if grant.month == self.result.month and grant.sale_index is not None:
                formulas["entitled_on"] = (f"={sales.cell('date', grant.sale_index + 2)}", grant.entitled_on)
            elif grant.month == self.result.month:
                formulas["entitled_on"] = ("=MONTH_END", grant.entitled_on)
            else:
                values["entitled_on"] = grant.entitled_on
            nfr.write(values, formulas)

    # -- Leads (R14)
    def _leads(self, leads):
        frame = self.result.leads
        if len(frame):
            col = {name: frame[name].tolist() for name in frame.columns}
            leads.write_many(len(frame), {
                "lead_id": col["lead_id"], "received_on": col["received_on"], "territory": col["territory"],
                "company": col["company"], "contact": col["contact"], "assigned": col["assigned_to"],
                "reason": col["reason"], "file": col["source_file"], "sheet": col["source_sheet"],
                "row": col["source_row"]})

    # -- Co-op (R15)
    def _coop(self, coop, partners, rows):
        t = coop.template
        fs = {
            "eligible": t("=MATCH({status},LEVEL_NAMES,0)>=MATCH(COOP_MIN_LEVEL,LEVEL_NAMES,0)"),
            "reimbursement": t('=IF({eligible},IF({requested}="",COOP_SHARE*{expense},MIN({requested},COOP_SHARE*{expense})),0)'),
            "reason": t('=IF({eligible},IF(AND({requested}<>"",{requested}<COOP_SHARE*{expense}),'
                        '"requested amount (below the cap)",TEXT(COOP_SHARE,"0%")&" of expense (cap)"),'
                        '{status}&": co-op marketing starts at "&COOP_MIN_LEVEL)'),
        }
        minimum = self.rules.level(self.rules.coop_min_level).rank
        status_ref = partners.ref + "!$" + partners.letter["opening_status"] + "$"
        for claim in self.result.claims.itertuples(index=False):
            requested = value(claim.requested_usd)
            values = {"claim_id": claim.claim_id, "partner_id": claim.partner_id, "date": claim.date,
                      "expense": float(claim.expense_usd), "requested": requested,
                      "description": claim.description, "file": claim.source_file,
                      "sheet": claim.source_sheet, "row": claim.source_row}
            eligible = self.rules.level_by_name(claim.status_at_date).rank >= minimum
            formulas = {"status": (f"={status_ref}{rows[claim.partner_id]}", claim.status_at_date),
                        "eligible": (fs["eligible"], eligible),
                        "reimbursement": (fs["reimbursement"], float(claim.reimbursement_usd)),
                        "reason": (fs["reason"], claim.reason)}
            coop.write(values, formulas)

    def _exceptions(self, exceptions):
        for problem in self.run.problems:
            exceptions.write({"file": problem.file, "sheet": problem.sheet, "row": problem.row,
                              "column": problem.column, "value": problem.value,
                              "problem": problem.message, "action": problem.action})

    def _reconciliation(self, reconciliation):
        for report in self.run.reports:
            reconciliation.write({"file": report.file, "sheet": report.sheet, "kind": report.kind,
                                  "read": report.rows_read, "accepted": report.accepted,
                                  "rejected": report.rejected, "duplicates": report.duplicates})

    # -- Summary (O3): counts, changes, points by source, money, and charts
    def _summary(self, sheet, partners, sales, coop, leads, exceptions, reconciliation):
        book, rules, result = self.book, self.rules, self.result
        styles = book.styles
        sheet.set_column(0, 0, 34)
        sheet.set_column(1, 3, 14)
        sheet.set_landscape()
        sheet.fit_to_pages(1, 1)
        page_header(sheet, book.title)
        sheet.write_string(0, 0, f"Partner programme: {result.month:%B %Y}", styles["title"])
        sheet.write_string(1, 0, f"Inbox: {self.inbox_name}; rules: {self.rules_source}", styles["note"])
        sheet.write_string(2, 0, "Every figure is a formula: click it to see where it comes from.", styles["note"])
        last = max(len(result.partners), 1) + 1

        def col(table, key, last_row):
            return table.span(key, 2, max(last_row, 2))

        r = 4
        sheet.write_string(r, 0, "Partners by status", styles["section"])
        r += 1
        for i, header in enumerate(("Level", "Opening", "Closing")):
            sheet.write_string(r, i, header, styles["header"])
        first_level_row = r + 1
        for lv in rules.levels:
            r += 1
            sheet.write_string(r, 0, lv.name)
            opening = sum(1 for p in result.partners if p.opening_rank == lv.rank)
            closing = sum(1 for p in result.partners if p.rank == lv.rank)
            book.formula(sheet, r, 1, f"=COUNTIF({col(partners, 'opening_status', last)},A{r + 1})", "int", opening)
            book.formula(sheet, r, 2, f"=COUNTIF({col(partners, 'status', last)},A{r + 1})", "int", closing)
        last_level_row = r
        r += 1
        sheet.write_string(r, 0, "All partners", styles["label"])
        book.formula(sheet, r, 1, f"=SUM(B{first_level_row + 1}:B{last_level_row + 1})", "int", len(result.partners))
        book.formula(sheet, r, 2, f"=SUM(C{first_level_row + 1}:C{last_level_row + 1})", "int", len(result.partners))

        r += 2
        sheet.write_string(r, 0, "Changes at month close", styles["section"])
        for change in ("Upgrade", "Downgrade", "Renewed", "Lapsed"):
            r += 1
            sheet.write_string(r, 0, change)
            book.formula(sheet, r, 1, f"=COUNTIF({col(partners, 'change', last)},A{r + 1})", "int",
                                sum(1 for p in result.partners if p.change == change))
        r += 1
        sheet.write_string(r, 0, "At risk (R9)")
        book.formula(sheet, r, 1, f'=COUNTIF({col(partners, "at_risk", last)},"yes")', "int",
                            sum(1 for p in result.partners if not p.meets[p.rank]))

        r += 2
        sheet.write_string(r, 0, "Points by source", styles["section"])
        first_points_row = r + 1
        for label, key, attr in (("Sales points (R3)", "sales", "sales_points"),
                                 ("Early-adopter bonus (R4)", "bonus", "bonus_points"),
                                 ("Activity points (R5)", "activity", "activity_points")):
            r += 1
            sheet.write_string(r, 0, label)
            book.formula(sheet, r, 1, f"=SUM({col(partners, key, last)})", "int",
                                float(sum(getattr(p, attr) for p in result.partners)))
        last_points_row = r

        r += 2
        sheet.write_string(r, 0, "Money (USD)", styles["section"])
        s_last = len(result.sales) + 1
        money = [("Sales", f"=SUM({col(sales, 'amount_usd', s_last)})", float(result.sales["amount_usd"].sum()) if len(result.sales) else 0.0),
                 ("Partner margin (R11)", f"=SUM({col(sales, 'margin_usd', s_last)})", float(result.sales["margin_usd"].sum()) if len(result.sales) else 0.0),
                 ("First-sale discounts (R12)", f"=SUM({col(sales, 'discount', s_last)})", float(result.sales["first_sale_discount_usd"].sum()) if len(result.sales) else 0.0),
                 ("Amount due from partners", f"=SUM({col(sales, 'due', s_last)})", float(result.sales["amount_due_usd"].sum()) if len(result.sales) else 0.0),
                 ("Co-op reimbursements (R15)", f"=SUM({col(coop, 'reimbursement', len(result.claims) + 1)})", float(result.claims["reimbursement_usd"].sum()) if len(result.claims) else 0.0)]
        for label, formula, cached in money:
            r += 1
            sheet.write_string(r, 0, label)
            book.formula(sheet, r, 1, formula, "money", cached)

        r += 2
        sheet.write_string(r, 0, "Leads (R14) and input", styles["section"])
        l_last = len(result.leads) + 1
        assigned = int((result.leads["assigned_to"] != "").sum()) if len(result.leads) else 0
        problems = [p for p in self.run.problems]
        counted_once = sum(1 for p in problems if p.severity == DUPLICATE)
        e_last = len(problems) + 1
        for label, formula, cached in (
                ("Leads received", f"=COUNTA({col(leads, 'lead_id', l_last)})", len(result.leads)),
                ("Leads assigned", f"=COUNTA({col(leads, 'assigned', l_last)})", assigned),
                ("Problems (see Exceptions)",
                 f'=COUNTA({col(exceptions, "file", e_last)})-COUNTIF({col(exceptions, "action", e_last)},"counted once")',
                 len(problems) - counted_once),
                ("Exact duplicates counted once", f'=COUNTIF({col(exceptions, "action", e_last)},"counted once")', counted_once)):
            r += 1
            sheet.write_string(r, 0, label)
            book.formula(sheet, r, 1, formula, "int", cached)

        # I7: every input row is accounted for; the Reconciliation sheet's totals, checked.
        r += 2
        sheet.write_string(r, 0, "Input rows (Reconciliation)", styles["section"])
        reports = self.run.reports
        c_last = len(reports) + 1
        totals = {key: sum(getattr(report, attr) for report in reports) for key, attr in (
            ("read", "rows_read"), ("accepted", "accepted"), ("rejected", "rejected"), ("duplicates", "duplicates"))}
        first_total = r + 1
        for label, key in (("Rows read", "read"), ("Accepted", "accepted"), ("Rejected", "rejected"),
                           ("Duplicates", "duplicates")):
            r += 1
            sheet.write_string(r, 0, label)
            book.formula(sheet, r, 1, f"=SUM({col(reconciliation, key, c_last)})", "int", totals[key])
        r += 1
        sheet.write_string(r, 0, "Every row accounted for")
        book.formula(sheet, r, 1, f"=B{first_total + 1}=B{first_total + 2}+B{first_total + 3}+B{first_total + 4}",
                     "bool", totals["read"] == totals["accepted"] + totals["rejected"] + totals["duplicates"])

        chart = book.xl.add_chart({"type": "column"})
        for column, name in ((1, "Opening"), (2, "Closing")):
            chart.add_series({
                "name": name,
                "categories": ["Summary", first_level_row, 0, last_level_row, 0],
                "values": ["Summary", first_level_row, column, last_level_row, column],
                "data_labels": {"value": True},
            })
        chart.set_title({"name": "Partners by status"})
        chart.set_y_axis({"name": "Partners", "major_gridlines": {"visible": True}})
        chart.set_legend({"position": "bottom"})
        sheet.insert_chart(4, 4, chart, {"x_scale": 1.2, "y_scale": 1.1})
        pie = book.xl.add_chart({"type": "bar"})
        pie.add_series({"name": "Points",
                        "categories": ["Summary", first_points_row, 0, last_points_row, 0],
                        "values": ["Summary", first_points_row, 1, last_points_row, 1],
                        "data_labels": {"value": True}, "points": [{"fill": {"color": c}} for c in ("#1F4E78", "#2E75B6", "#9DC3E6")]})
        pie.set_title({"name": "Points earned this month by source"})
        pie.set_legend({"none": True})
        sheet.insert_chart(22, 4, pie, {"x_scale": 1.2, "y_scale": 1.0})
