"""A partner's statement (O5): its share of the month, for a reader who has never seen the
programme's document.

The first sheet, Statement, reads top to bottom in plain words; every figure on it is a formula
over the sheets behind it. Those are the channel workbook's own tables written by the same
writers for this partner's rows only (Ledger, Sales, Activities, Co-op; its Partner,
Requirements and Month close rows), so a statement's figures are computed exactly as the
channel team's are, and a Rules sheet holds just the parameters these formulas use.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

from .. import rules as R
from ..engine import MonthResult
from ..garbage import no_collections
from ..outputs import atomic_output
from ..xlsx import Book, Table, cached_value, fit_header, names_in, set_columns, store, value_cell
from xlsxwriter.worksheet import CellBlankTuple, CellFormulaTuple
from .common import Context, Lines, Tables, partner_blocks, records
from .events import (activities_table, adjustments_table, ledger_table, sales_table, write_activities,
                     write_adjustments, write_ledger, write_sales)
from .formulas import sales_to_next_formula  # noqa: F401  (O5; tests import it from here)
from .grants import coop_table, entitled_on, write_coop
from .rules_sheet import write_rules
from .standing import (close_table, partners_table, requirements_table, write_close, write_partners,
                       write_requirements)

# R10: what becomes of the certificate, a sentence per case ({status}: the status's name,
# {months}: the months a certificate is valid; on the page, their cells in formulas).
EXPIRED = ("Lapsed: you did not meet the {status} requirements when it expired. You keep your status; "
           "the certificate is renewed at the first month close at which you meet them.")
RENEWS = "Renewed for {months} more months if you still meet the {status} requirements then."
LAPSES = "It lapses unless you meet the {status} requirements by then."
GOES_DOWN = ("Unless you meet the {status} requirements by then, your status goes down to the highest "
             "lower one whose requirements you meet, and your points are set to its threshold.")

WIDTHS = (14, 26, 14, 64)  # Statement: A labels and dates, B names, C figures, D words
WORDS_PER_LINE = 64 * 1.1   # characters of ordinary text a line of column D holds


def partner_views(result: MonthResult, first: int = 0, stop: int | None = None) -> Iterator[MonthResult]:
    """Each partner's share of the month, in partner order (partners `first` to `stop` only,
    when given): its sale, activity and adjustment lines (the frames are sorted by partner, so
    these are slices), its claims, the leads it was given and its NFR grants, as Lines. The
    month is grouped once, never scanned per partner, and only the rows of these partners are
    taken out of the frames."""
    partners = result.partners[first:stop]
    ids = {p.partner_id for p in partners}
    share = {}  # frame name -> (its rows of these partners as Lines, the row of the first, blocks)
    for name in ("sales", "activities", "adjustments"):
        frame = getattr(result, name)
        blocks = partner_blocks(frame, result.partners, first_row=0)  # partner -> (first, last) row
        mine = [blocks[p.partner_id] for p in partners if p.partner_id in blocks]
        low, high = (mine[0][0], mine[-1][1] + 1) if mine else (0, 0)
        share[name] = (Lines.of(frame.iloc[low:high]), low, blocks)
    claims = by_partner(result.claims, "partner_id", ids)
    leads = by_partner(result.leads, "assigned_to", ids)
    grants = defaultdict(list)
    for grant in result.nfr:
        grants[grant.partner_id].append(grant)

    def lines(name: str, partner_id: str) -> tuple[Lines, int]:
        """The partner's rows of a frame, and where they start in the month's."""
        rows, low, blocks = share[name]
        start, last = blocks.get(partner_id, (low, low - 1))
        return rows.take(start - low, last + 1 - low), start

    for p in partners:
        sales, first_sale = lines("sales", p.partner_id)
        adjustments, first_adjustment = lines("adjustments", p.partner_id)
        if p.override_index is not None:  # R17: its row among this partner's adjustments
            p = replace(p, override_index=p.override_index - first_adjustment)
        own = [replace(g, sale_index=g.sale_index - first_sale) if g.sale_index is not None else g
               for g in grants.get(p.partner_id, ())]
        yield MonthResult(result.month, [p], sales, lines("activities", p.partner_id)[0],
                          leads[p.partner_id], claims[p.partner_id], own, adjustments, result.rules)


def by_partner(frame, key: str, ids: set[str]) -> dict[str, Lines]:
    """The rows of `frame` whose `key` is one of `ids`, as Lines per partner (none: empty)."""
    data = Lines.of(frame)
    rows = defaultdict(list)
    for i, partner_id in enumerate(data.data.get(key, ())):
        if partner_id in ids:
            rows[partner_id].append(i)
    empty = data.take(0, 0)
    return defaultdict(lambda: empty, {pid: data.pick(picked) for pid, picked in rows.items()})


def write_statement(path: Path, view: MonthResult, stats: dict | None = None) -> None:
    """Write one partner's statement atomically (and add its cell counts to `stats`), under
    the rules of its month (R18)."""
    with no_collections(), atomic_output(Path(path)) as temp:
        writer = StatementWriter(temp, view)
        writer.write()
    if stats is not None:
        stats["values"] = stats.get("values", 0) + writer.book.values
        stats["formulas"] = stats.get("formulas", 0) + writer.book.formulas


class StatementWriter:
    def __init__(self, path: Path, view: MonthResult):
        self.view = view
        self.rules = view.rules
        self.partner = view.partners[0]
        month = view.month
        self.book = Book(path, datetime(month.year, month.month, 1),
                         f"Partner statement {self.partner.partner_id} {month:%Y-%m}", small=True)
        self.book.names = set()  # the Rules sheet holds only the names the formulas use

    def write(self) -> None:
        book, view, rules = self.book, self.view, self.rules
        page = book.xl.add_worksheet("Statement")
        ledger = ledger_table(book)
        sales = sales_table(book) if len(view.sales) else None
        activities = activities_table(book) if len(view.activities) else None
        coop = coop_table(book) if len(view.claims) else None
        adjustments = adjustments_table(book) if len(view.adjustments) else None
        partners = partners_table(book, "Partner")
        requirements = requirements_table(book, rules)
        close = close_table(book, rules)
        ctx = Context(rules, view, Tables(partners, requirements, close, ledger, sales, activities,
                                          coop=coop, adjustments=adjustments))
        write_partners(ctx)
        write_requirements(ctx)
        write_close(ctx)
        if sales:
            write_sales(ctx)
        if activities:
            write_activities(ctx)
        if adjustments:
            write_adjustments(ctx)
        movements = write_ledger(ctx)
        if coop:
            write_coop(ctx)
        self._statement(page, ctx, movements)
        write_rules(book, rules, view.month, view.end, "", only=book.names)
        header = self._page_header()
        for table in (ledger, sales, activities, adjustments, coop, partners, requirements, close):
            if table is not None:
                table.finish()
                table.sheet.set_header(header)
                table.sheet.set_footer("&CPage &P of &N")
        for sheet in (page, book.xl.get_worksheet_by_name("Rules")):
            sheet.set_header(header)
            sheet.set_footer("&CPage &P of &N")
        book.close()

    def _page_header(self) -> str:
        p = self.partner
        return fit_header(f"{p.name} ({p.partner_id})", f"&RPartner statement, {self.view.month:%B %Y}")

    # -- the Statement sheet, top to bottom ----------------------------------------------------
    def _statement(self, sheet, ctx: Context, movements: dict[str, list]) -> None:
        book, rules, view, p = self.book, self.rules, self.view, self.partner
        levels = rules.levels
        status, nxt = levels[p.rank - 1], (levels[p.rank] if p.rank < len(levels) else None)
        cell = {key: ctx.tables.partners.cell(key, 2) for key in ctx.tables.partners.letter}
        next_month = view.end + timedelta(days=1)
        page = Page(book, sheet)
        month = f"{view.month:%B %Y}"

        page.text(0, f"Partner statement, {month}", "title")
        page.next()
        page.text(0, f"{p.name} ({p.partner_id})", "name")
        page.next()
        page.text(0, "Every figure is a formula: click it to see where it comes from.", "note")
        page.next()
        page.text(0, "The sheets after this one hold the details, and how your status was worked out.", "note")
        page.next()
        sheet.freeze_panes(2, 0)

        # Status, margin, certificate (R1, R8, R10, R11)
        page.section(f"Your status at the close of {month}")
        page.fact("Status", f"={cell['status']}", status.name)
        page.fact("Change this month", f'=IF({cell["change"]}="","none",{cell["change"]})', p.change or "none")
        page.fact("Margin", f"={cell['margin']}", status.margin, "pct", f"on your sales from {next_month:%B %Y} (R11)")
        page.fact("Points", f"={cell['closing']}", p.closing_points, "int", "the points you hold (see below)")
        at_risk = not p.meets[p.rank]
        lapsed = p.certificate_expires <= view.end  # R10: it expired at this or an earlier close
        expiry = EXPIRED if lapsed else RENEWS if not at_risk else LAPSES if p.rank == 1 else GOES_DOWN
        level = ctx.tables.close.cell("closing_level", 2)
        expired = f"{cell['expires']}<=MONTH_END"
        page.formula(0, f'=IF({expired},"Certificate expired","Certificate expires")',
                     "Certificate expired" if lapsed else "Certificate expires", "label")
        page.formula(2, f"={cell['expires']}", p.certificate_expires, "day")
        words = {"status": status.name, "months": rules.valid_months}
        refs = {"status": cell["status"], "months": "CERT_MONTHS"}
        said = {case: sentence_formula(case, refs) for case in (EXPIRED, RENEWS, LAPSES, GOES_DOWN)}
        page.formula(3, f'=IF({expired},{said[EXPIRED]},IF({cell["at_risk"]}="no",{said[RENEWS]},'
                        f'IF({level}=1,{said[LAPSES]},{said[GOES_DOWN]})))', expiry.format(**words))
        page.next()
        missing = "; ".join(p.missing[p.rank])
        page.fact("At risk", f'=IF({cell["at_risk"]}="yes","yes: missing "&{cell["missing"]},"no")',
                  f"yes: missing {missing}" if at_risk else "no")

        # Points: the Ledger's lines (O3), in plain words
        page.section(f"Your points in {month}")
        page.headers("Date", "Source", "Points", "Explanation")
        first = page.r
        ledger = ctx.tables.ledger
        for i, source in enumerate(movements["source"]):
            row = i + 2
            page.formula(0, f"={ledger.cell('date', row)}", movements["date"][i], "date")
            page.formula(1, f"={ledger.cell('source', row)}", source)
            page.formula(2, f"={ledger.cell('points', row)}", movements["points"][i], "int")
            self._explain(page, ledger, row, source, movements["text"][i], movements["amount"][i],
                          movements["explanation"][i])
            page.next()
        page.text(0, "Closing points", "label")
        page.formula(2, f"={cell['closing']}", p.closing_points, "int")
        total = f"SUM(C{first + 1}:C{page.r})"
        page.formula(3, f'=IF({total}={cell["closing"]},"the sum of the lines above",'
                        '"not the sum of the lines above: see the Ledger sheet")', "the sum of the lines above")
        page.next()

        # The way up (R1, R6, R8; O5 sales to next)
        page.section("The way up")
        page.fact("Next status", f'=IF({cell["next"]}="","none: "&{cell["status"]}&" is the highest status",{cell["next"]})',
                  nxt.name if nxt else f"none: {status.name} is the highest status")
        if nxt:  # at the highest status there are no points to earn towards anything
            to_next = max(0, nxt.threshold - p.closing_points)
            points_cell = f"C{page.r + 1}"
            page.fact("Points to next", f"={cell['to_next']}", to_next, "int",
                      f"{nxt.name} needs {nxt.threshold:,} points")
            bonus = R.bonus_applies(status.name, next_month, rules)
            bonus_cell = f"D{page.r + 1}"
            page.fact("Bonus on your next sale",
                      f'=IF(AND({cell["status"]}=BONUS_LEVEL,BONUS_POINTS>0,OR(BONUS_FROM="",MONTH_END+1>=BONUS_FROM),'
                      'OR(BONUS_UNTIL="",MONTH_END+1<=BONUS_UNTIL)),"yes","no")', "yes" if bonus else "no")
            page.text(0, "Sales to next (USD)", "label")
            page.formula(2, sales_to_next_formula(points_cell, bonus_cell), R.sales_to_next(to_next, bonus, rules), "int")
            how = ("the smallest single sale, in whole US dollars, that earns the points to next at your status"
                   + (", with the early-adopter bonus (R3, R4)" if bonus else " (R3)"))
            page.formula(3, f'=IF({points_cell}=0,"no sale needed: you have the points; see what is missing below",'
                            f'{text(how)})', how if to_next else "no sale needed: you have the points; see what is missing below")
            page.next()
        nothing = "nothing: you meet every requirement"
        page.fact(f"Missing for {status.name}", f'=IF({cell["missing"]}="",{text(nothing)},{cell["missing"]})',
                  missing or nothing)
        if nxt:
            missing_next = "; ".join(p.missing[nxt.rank])
            page.fact(f"Missing for {nxt.name}",
                      f'=IF({cell["missing_next"]}="",{text(nothing)},{cell["missing_next"]})', missing_next or nothing)

        # NFR licences (R13)
        page.section("Your NFR licences (R13)")
        if view.nfr:
            page.headers("Entitled on", "Issued or to issue", "", "Edition")
            for grant in view.nfr:
                formula = entitled_on(grant, ctx)
                if formula:
                    page.formula(0, formula, grant.entitled_on, "date")
                else:
                    page.text(0, grant.entitled_on, "date")
                page.text(1, "Issued" if grant.issued else "To issue")
                page.text(3, grant.edition)
                page.next()
        else:
            page.text(0, "none yet")
            page.next()

        # Leads (R14)
        page.section(f"Leads given to you in {month} (R14)")
        if len(view.leads):
            page.headers("Received on", "Lead ID", "Territory", "Company and contact")
            for lead in records(view.leads):
                page.text(0, lead["received_on"], "date")
                page.text(1, lead["lead_id"])
                page.text(2, lead["territory"])
                page.text(3, " / ".join(str(x) for x in (lead["company"], lead["contact"]) if x is not None and x == x and x != ""))
                page.next()
        else:
            leads_level = rules.level(rules.leads_level)
            page.text(0, "none this month" + ("" if p.rank == leads_level.rank else f" (leads go to {leads_level.name}s)"))
            page.next()

        # Co-op marketing claims (R15)
        page.section(f"Co-op marketing claims in {month} (R15)")
        coop: Table | None = ctx.tables.coop
        if coop is not None:
            page.headers("Date", "Claim ID", "Reimbursed USD", "Why")
            for i, claim in enumerate(records(view.claims)):
                page.text(0, claim["date"], "date")
                page.text(1, claim["claim_id"])
                page.formula(2, f"={coop.cell('reimbursement', i + 2)}", float(claim["reimbursement_usd"]), "money")
                page.formula(3, f"={coop.cell('reason', i + 2)}", claim["reason"])
                page.next()
        else:
            page.text(0, "none this month")
            page.next()

        # Benefits (R16), from the rules file
        page.section(f"Your benefits as {status.name}", f'="Your benefits as "&{cell["status"]}')
        for benefit in status.benefits:
            page.text(0, f"\u2022  {benefit}")
            page.next()
        if nxt:
            page.section(f"What {nxt.name} adds", f'="What "&{cell["next"]}&" adds"')
            for benefit in [b for b in nxt.benefits if b not in status.benefits]:
                page.text(0, f"\u2022  {benefit}")
                page.next()
        sheet.print_area(0, 0, page.r, len(WIDTHS) - 1)

    def _explain(self, page: "Page", ledger: Table, row: int, source: str, reference, amount, explanation: str) -> None:
        """A ledger line in plain words; the figures in it are read from the Ledger and Rules."""
        rules, p = self.rules, self.partner
        ref, amount_cell = ledger.cell("reference", row), ledger.cell("amount", row)
        if source in ("Sale", "Credit note"):
            what = "sale of " if source == "Sale" else "credit note of "
            tail = (f" USD, 1 point per {rules.usd_per_point:g} USD" if source == "Sale" else
                    " USD: its points are taken back")
            formula_tail = '&" USD, 1 point per "&USD_PER_POINT&" USD"' if source == "Sale" else f"&{text(tail)}"
            page.formula(3, f'={ref}&": {what}"&FIXED({amount_cell},2){formula_tail}',
                         f"{reference}: {what}{amount:,.2f}{tail}")
        elif source == "Early-adopter bonus":
            bonus_level = rules.level(rules.bonus_level).name
            page.formula(3, f'={ref}&": early-adopter bonus, "&BONUS_POINTS&" points per "&BONUS_PER_USD'
                            '&" USD while "&BONUS_LEVEL',
                         f"{reference}: early-adopter bonus, {rules.bonus_points} points per "
                         f"{rules.bonus_per_usd:g} USD while {bonus_level}")
        elif source == "Activity":
            page.text(3, f"{reference}: {explanation.removeprefix('R5: ')}")
        elif source == "Adjustment":
            page.text(3, f"{reference}: correction by the channel team: {explanation.removeprefix('R17: ')}")
        elif source == "Opening balance":
            first = p.opening_note.startswith("starting state")
            page.text(3, "your points on joining the programme" if first else
                      f"your points at the close of {self.view.month - timedelta(days=1):%B %Y}")
        else:  # Month close
            page.text(3, "your status went down (R10, R17): points set to its threshold"
                      if p.rank < p.opening_rank else "the balance never goes below 0 (R3)")


def text(words: str) -> str:
    """A text literal for a formula."""
    return '"' + words.replace('"', '""') + '"'


def sentence_formula(sentence: str, refs: dict[str, str]) -> str:
    """A sentence with {name} placeholders as a formula expression: its words as text literals,
    each placeholder the cell or defined name in `refs`, joined by &."""
    pieces = re.split(r"\{(\w+)\}", sentence)  # words, name, words, name, ...
    return "&".join(refs[piece] if i % 2 else text(piece) for i, piece in enumerate(pieces) if i % 2 or piece)


class Page:
    """The Statement sheet, written top to bottom in four columns: A labels and dates, B names,
    C figures, D words (wrapped; a row is as tall as its longest words). Its cells sit at the top
    of their row, so a label stays level with the first line of the words beside it."""

    def __init__(self, book: Book, sheet):
        self.book, self.sheet, self.r = book, sheet, 0
        add = book.xl.add_format
        top = {"valign": "top"}
        shared = book.styles  # the book's own where they are the same (every format sits at the top)
        self.styles = {
            "text": add(top), "wrap": add({**top, "text_wrap": True, "indent": 1}),  # D: clear of C's figures
            "label": shared["label"], "int": shared["int"], "money": shared["money"], "pct": shared["pct"],
            "date": add({**top, "num_format": "yyyy-mm-dd", "align": "left"}),  # in column A
            "day": shared["date"],  # among the figures of column C
            "title": shared["title"],
            "name": add({"bold": True, "font_size": 13, "font_color": "#1F4E78"}),
            "section": add({"bold": True, "font_size": 12, "font_color": "#1F4E78", "bottom": 1,
                            "bottom_color": "#9DC3E6"}),
            "note": shared["note"],
            "header": shared["header"],
        }
        set_columns(sheet, [(i, i, width, None) for i, width in enumerate(WIDTHS)])
        sheet.set_portrait()
        sheet.set_paper(9)  # A4; fitted to the page width, so Letter prints it as well
        sheet.fit_to_pages(1, 0)
        sheet.set_margins(left=0.5, right=0.5, top=0.8, bottom=0.6)
        sheet.hide_gridlines(2)

    def next(self) -> None:
        self.r += 1

    def _fit(self, col: int, words) -> None:
        if col == 3 and isinstance(words, str):
            lines = math.ceil(len(words) / WORDS_PER_LINE)
            if lines > 1:
                self.sheet.set_row(self.r, 15 * lines)

    def text(self, col: int, value, style: str = "text") -> None:
        """Input data or fixed words (text stays text, I8)."""
        style = "wrap" if col == 3 and style == "text" else style
        cell = value_cell(value, self.styles[style], self.styles["date"])
        if cell is not None:
            store(self.sheet, self.r, [(col, cell)])
            self.book.values += 1
            self._fit(col, value)

    def formula(self, col: int, formula: str, cached, style: str = "text") -> None:
        style = "wrap" if col == 3 and style == "text" else style
        self.book.names.update(names_in(formula))
        store(self.sheet, self.r, [(col, CellFormulaTuple(formula[1:], self.styles[style], cached_value(cached)))])
        self.book.formulas += 1
        self._fit(col, cached)

    def fact(self, label: str, formula: str, cached, style: str = "text", words: str | None = None) -> None:
        """A labelled figure: a number in C (with words in D), or words in D; then the next row."""
        self.text(0, label, "label")
        self.formula(2 if style != "text" else 3, formula, cached, style)
        if words:
            self.text(3, words)
        self.next()

    def section(self, title: str, formula: str | None = None) -> None:
        self.next()
        if formula:
            self.formula(0, formula, title, "section")
        else:
            self.text(0, title, "section")
        rule = CellBlankTuple(self.styles["section"])  # the heading's underline across the page
        store(self.sheet, self.r, [(col, rule) for col in range(1, len(WIDTHS))])
        self.next()

    def headers(self, *names: str) -> None:
        for col, name in enumerate(names):
            self.sheet.write_string(self.r, col, name, self.styles["header"])
        self.next()
