"""The Rules sheet: every parameter in force (or, for a statement, only those its formulas use),
each behind a defined name that the formulas read (O4)."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from xlsxwriter.worksheet import CellStringTuple

from ..config import Rules
from ..textsize import LINE_HEIGHT, row_lines
from ..xlsx import Book, fit_row, print_setup, set_columns, store, value_cell

@lru_cache(maxsize=1024)
def name_for(*parts: str) -> str:
    """A defined name such as THRESHOLD_GOLD from rules keys (remembered: every statement asks
    for the same few)."""
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
        for req, needed in rules.asked[lv.rank]:
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



# Named ranges over consecutive parameters: (range name, prefix of its members).
RANGES = (("LEVEL_NAMES", "LEVEL_"), ("THRESHOLDS", "THRESHOLD_"), ("MARGINS", "MARGIN_"),
          ("ACTIVITY_KEYS", "ACTIVITY_"), ("ACTIVITY_POINTS", "POINTS_"), ("ACTIVITY_APPROVAL", "APPROVAL_"))


def names_needed(rows: list[tuple[str, str, object, str]], used: set[str]) -> set[str]:
    """The parameters a set of formulas needs: the names they use, and every member of a
    range they use."""
    prefixes = tuple(prefix for range_name, prefix in RANGES if range_name in used)
    return set(used) | {name for _, name, _, _ in rows if prefixes and name.startswith(prefixes)}


COLUMNS = (("Rule", 7, None), ("Name", 44, "wrap"), ("Value", 30, "wrap"), ("Meaning", 52, "wrap"))
WIDTHS = [width for _, width, _ in COLUMNS]


def parameter_rows(rules: Rules, month: date, end: date,
                   only: frozenset[str] | None) -> list[tuple[str, str, object, str, str, int]]:
    """(R-number, name, value, meaning, style, lines) of the parameters in force, or of those
    `only` needs; worked out once for every statement whose formulas use the same names."""
    key = (id(rules), month, end, only)
    known = _PARAMETER_ROWS.get(key)
    if known is not None and known[0] is rules:
        return known[1]
    rows = rules_rows(rules, month, end)
    if only is not None:
        needed = names_needed(rows, only)
        rows = [row for row in rows if row[1] in needed]
    made = [(rule, name, value, meaning,
             "date" if isinstance(value, date) else
             "pct" if name.startswith(("MARGIN_", "FIRST_SALE_DISCOUNT", "COOP_SHARE")) else "text",
             row_lines([(name, WIDTHS[1]), (value, WIDTHS[2]), (meaning, WIDTHS[3])]))
            for rule, name, value, meaning in rows]
    if len(_PARAMETER_ROWS) > 256:
        _PARAMETER_ROWS.clear()
    _PARAMETER_ROWS[key] = (rules, made)
    return made


_PARAMETER_ROWS: dict = {}  # parameter_rows by (rules, month, end, names), with the rules kept


def write_rules(book: Book, rules: Rules, month: date, end: date, source: str,
                only: set[str] | None = None) -> dict[str, str]:
    """Write the Rules sheet and define a name for each parameter; returns name -> cell.

    With `only` (a statement), just the parameters those formulas need, and no benefits table
    (the statement words them itself)."""
    sheet = book.xl.add_worksheet("Rules")
    columns = [(header, width, book.styles[style] if style else None) for header, width, style in COLUMNS]
    set_columns(sheet, [(i, i, width, fmt) for i, (_, width, fmt) in enumerate(columns)])  # fmt: of cells without one
    for i, (header, _, _) in enumerate(columns):
        sheet.write_string(0, i, header, book.styles["header"])
    sheet.freeze_panes(1, 0)
    print_setup(sheet, book.title, WIDTHS)
    cells = {}
    rows = parameter_rows(rules, month, end, frozenset(only) if only is not None else None)
    date_format = book.styles["date"]
    for r, (rule, name, value, meaning, style, lines) in enumerate(rows, start=1):
        if lines > 1:
            sheet.set_row(r, lines * LINE_HEIGHT)
        cell = value_cell(value, book.styles[style], date_format)
        # the row in one go, as write_string and Book.put would store it (a statement has 30 of them)
        store(sheet, r, [(0, CellStringTuple(rule, None)), (1, CellStringTuple(name, None)),
                         *([(2, cell)] if cell is not None else []), (3, CellStringTuple(meaning, None))])
        book.values += cell is not None
        cells[name] = f"Rules!$C${r + 1}"
        book.define_name(name, f"Rules!$C${r + 1}")
    counts = {"LEVEL_": len(rules.levels), "THRESHOLD_": len(rules.levels), "MARGIN_": len(rules.levels),
              "ACTIVITY_": len(rules.activities), "POINTS_": len(rules.activities),
              "APPROVAL_": len(rules.activities)}
    for range_name, prefix in RANGES:
        if only is not None and range_name not in only:
            continue
        start = min(i for i, row in enumerate(rows, start=2) if row[1].startswith(prefix))
        book.define_name(range_name, f"Rules!$C${start}:$C${start + counts[prefix] - 1}")
    if only is not None:
        sheet.print_area(0, 0, len(rows), len(columns) - 1)
        return cells
    r = len(rows) + 2
    sheet.write_string(r, 0, "R16", book.styles["label"])
    sheet.write_string(r, 1, "Benefits by level", book.styles["section"])
    for level in rules.levels:
        for benefit in level.benefits:
            r += 1
            fit_row(sheet, r, [(level.name, WIDTHS[1]), (benefit, WIDTHS[2])])
            sheet.write_string(r, 0, "R16")
            sheet.write_string(r, 1, level.name)
            sheet.write_string(r, 2, benefit)
    r += 2
    fit_row(sheet, r, [(source, WIDTHS[2])])
    sheet.write_string(r, 1, "Rules file", book.styles["label"])
    sheet.write_string(r, 2, source)
    # R18: which version of the rules this month was computed under, and what it changed
    r += 1
    changed = ("changed: " + "; ".join(rules.version_changes)) if rules.version_changes else \
        "every parameter as the rules file's own tables give it"
    fit_row(sheet, r, [(rules.version_label, WIDTHS[2]), (changed, WIDTHS[3])])
    sheet.write_string(r, 0, "R18")
    sheet.write_string(r, 1, "Rules version in force", book.styles["label"])
    sheet.write_string(r, 2, rules.version_label)
    sheet.write_string(r, 3, changed)
    sheet.print_area(0, 0, r, len(columns) - 1)
    return cells
