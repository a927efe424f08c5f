"""The channel team's workbook, one per month (O1-O4).

Every derived number is written as a live formula together with the engine's value as its
cached result, so the file opens with figures everywhere and an auditor can click any cell to
see how it came about. Parameters come from the Rules sheet through defined names; other rows
are reached by direct references, never whole columns. Input text is always written as text.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..engine import MonthResult, RunResult
from ..garbage import no_collections
from ..outputs import atomic_output
from ..problems import DUPLICATE, NOTE, NOTED
from ..xlsx import Book, Column, Table, page_header, text_literal
from .common import Context, Tables
from .events import (activities_table, adjustments_table, ledger_table, sales_table, write_activities,
                     write_adjustments, write_ledger, write_sales)
from .grants import coop_table, leads_table, nfr_table, write_coop, write_leads, write_nfr
from .rules_sheet import write_rules
from .standing import (close_table, partners_table, requirements_table, write_close, write_partners,
                       write_requirements)


def write_month(path: Path, result: MonthResult, run: RunResult, inbox_name: str,
                rules_source: str, stats: dict | None = None) -> int:
    """Write one month's channel workbook atomically; returns the number of formula cells
    (and adds the value and formula cells written to `stats`, when given)."""
    with no_collections(), atomic_output(Path(path)) as temp:
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
        self.rules = result.rules  # R18: the rules in force in this month
        self.inbox_name = inbox_name
        self.rules_source = rules_source
        self.book = Book(path, datetime(result.month.year, result.month.month, 1),
                         f"tiersheet {result.month:%Y-%m}")

    # Sheets are added in reading order; rows are written top to bottom (constant memory).
    def write(self) -> int:
        rules, result = self.rules, self.result
        book = self.book
        summary = book.xl.add_worksheet("Summary")
        partners = partners_table(book)
        ledger = ledger_table(book)
        sales = sales_table(book)
        activities = activities_table(book)
        adjustments = adjustments_table(book)
        requirements = requirements_table(book, rules)
        close = close_table(book, rules)
        nfr = nfr_table(book)
        leads = leads_table(book)
        coop = coop_table(book)
        exceptions = Table(book, "Exceptions", [
            Column("file", "File", 22, "wrap"), Column("sheet", "Sheet", 14, "wrap"), Column("row", "Row", 7, "int"),
            Column("column", "Column", 16, "wrap"), Column("value", "Value", 20, "wrap"), Column("problem", "Problem", 50, "wrap"),
            Column("action", "Action", 22, "wrap")])
        reconciliation = Table(book, "Reconciliation", [
            Column("file", "File", 24, "wrap"), Column("sheet", "Sheet", 14, "wrap"), Column("kind", "Kind", 28, "wrap"),
            Column("read", "Rows read", 10, "int"), Column("accepted", "Accepted", 10, "int"),
            Column("rejected", "Rejected", 10, "int"), Column("duplicates", "Duplicates", 10, "int")])
        write_rules(book, rules, result.month, result.end, self.rules_source)

        ctx = Context(rules, result, Tables(partners, requirements, close, ledger, sales, activities,
                                            nfr, coop, leads, adjustments))
        for writer in (write_partners, write_requirements, write_close, write_sales, write_activities,
                       write_adjustments, write_ledger, write_nfr, write_leads, write_coop):
            writer(ctx)
        self._exceptions(exceptions)
        self._reconciliation(reconciliation)
        self._summary(summary, partners, sales, coop, leads, exceptions, reconciliation)
        for table in (partners, ledger, sales, activities, adjustments, requirements, close, nfr, leads, coop,
                      exceptions, reconciliation):
            table.finish()
        book.close()
        return book.formulas

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
                                 ("Activity points (R5)", "activity", "activity_points"),
                                 ("Adjustment points (R17)", "adjustment", "adjustment_points")):
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
        notes = sum(1 for p in problems if p.severity == NOTE)
        e_last = len(problems) + 1
        actions = col(exceptions, "action", e_last)
        for label, formula, cached in (
                ("Leads received", f"=COUNTA({col(leads, 'lead_id', l_last)})", len(result.leads)),
                ("Leads assigned", f"=COUNTA({col(leads, 'assigned', l_last)})", assigned),
                ("Problems (see Exceptions)",
                 f'=COUNTA({col(exceptions, "file", e_last)})-COUNTIF({actions},"counted once")'
                 f'-COUNTIF({actions},{text_literal(NOTED)})',
                 len(problems) - counted_once - notes),
                ("Exact duplicates counted once", f'=COUNTIF({actions},"counted once")', counted_once),
                ("Notes (not problems)", f"=COUNTIF({actions},{text_literal(NOTED)})", notes)):
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
                        "data_labels": {"value": True}, "points": [{"fill": {"color": c}} for c in ("#1F4E78", "#2E75B6", "#9DC3E6", "#BDD7EE")]})
        pie.set_title({"name": "Points earned this month by source"})
        pie.set_legend({"none": True})
        sheet.insert_chart(22, 4, pie, {"x_scale": 1.2, "y_scale": 1.0})
