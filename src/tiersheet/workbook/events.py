"""The month's events, one row per input line: Sales (R3, R4, R11, R12), Activities (R5),
Adjustments (R17), and the Ledger of every point movement (O3) that cites them."""

from __future__ import annotations

from typing import Sequence

from ..xlsx import Book, Column, Table
from .common import Context, column, columns


def ledger_table(book: Book) -> Table:
    return Table(book, "Ledger", [
        Column("id", "Partner ID", 11), Column("date", "Date", 10, "date"),
        Column("source", "Source", 18, "wrap"), Column("reference", "Reference", 16),
        Column("amount", "Amount USD", 12, "money"), Column("points", "Points", 9, "int"),
        Column("explanation", "Explanation", 58, "wrap"), Column("file", "Source file", 14, "wrap"),
        Column("sheet", "Source sheet", 11, "wrap"), Column("row", "Source row", 8, "int")])


def sales_table(book: Book) -> Table:
    return Table(book, "Sales", [
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


def activities_table(book: Book) -> Table:
    return Table(book, "Activities", [
        Column("activity_id", "Activity ID", 12), Column("partner_id", "Partner ID", 11),
        Column("date", "Date", 11, "date"), Column("activity", "Activity", 32, "wrap"),
        Column("type", "Type", 18, "wrap"), Column("approved_on", "Approved on", 11, "date"),
        Column("description", "Description", 34, "wrap"), Column("base", "Base points", 9, "int"),
        Column("needs_approval", "Needs approval", 9, "bool"), Column("counted", "Counted", 9, "bool"),
        Column("points", "Points", 8, "int"), Column("reason", "Not counted because", 30, "wrap"),
        Column("file", "Source file", 22, "wrap"), Column("sheet", "Source sheet", 12, "wrap"),
        Column("row", "Source row", 9, "int")], key_columns=2)


def adjustments_table(book: Book) -> Table:
    return Table(book, "Adjustments", [
        Column("adjustment_id", "Adjustment ID", 13), Column("partner_id", "Partner ID", 11),
        Column("date", "Date", 11, "date"), Column("points", "Points", 9, "int"),
        Column("status", "Status", 22, "wrap"), Column("until", "Until", 9),
        Column("reason", "Reason", 40, "wrap"), Column("approved_by", "Approved by", 16, "wrap"),
        Column("file", "Source file", 22, "wrap"), Column("sheet", "Source sheet", 12, "wrap"),
        Column("row", "Source row", 9, "int")], key_columns=2)


def write_adjustments(ctx: Context) -> None:
    """Adjustments (R17): a channel manager's corrections, input data citing where they were read."""
    frame = ctx.result.adjustments
    if not len(frame):
        return
    col = columns(frame)
    ctx.tables.adjustments.write_many(len(frame), {
        "adjustment_id": col["adjustment_id"], "partner_id": col["partner_id"], "date": col["date"],
        "points": col["points"], "status": col["status"],
        "until": [f"{u:%Y-%m}" if u else None for u in col["until"]], "reason": col["reason"],
        "approved_by": col["approved_by"], "file": col["source_file"], "sheet": col["source_sheet"],
        "row": col["source_row"]})


def write_sales(ctx: Context) -> None:
    """Sales (R3, R4, R11, R12): each line's points, bonus, margin, cost and first-sale discount."""
    sales, partners, close, rows = ctx.tables.sales, ctx.tables.partners, ctx.tables.close, ctx.rows
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
    count_first = t("=IF({intranet},1,0)+IF(") + close.row_ref("intranet_used", "@") + ",1,0)"
    count_next = t("={intranet_count}") .replace("#", "$PREV$") + t("+IF({intranet},1,0)")
    status_ref = partners.cell("opening_status", "@")
    amount_usd_f = t("=ROUND({amount}*{rate},2)")
    frame = ctx.result.sales
    n = len(frame)
    if not n:
        return
    col = columns(frame)
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


def write_activities(ctx: Context) -> None:
    """Activities (R5): points, or why an activity was not counted."""
    activities = ctx.tables.activities
    t = activities.template
    fs = {
        "base": t("=INDEX(ACTIVITY_POINTS,MATCH({type},ACTIVITY_KEYS,0))"),
        "needs_approval": t("=INDEX(ACTIVITY_APPROVAL,MATCH({type},ACTIVITY_KEYS,0))"),
        "counted": t('=OR(NOT({needs_approval}),AND({approved_on}<>"",{approved_on}<={date}))'),
        "points": t("=IF({counted},{base},0)"),
        "reason": t('=IF({counted},"",IF({approved_on}="","awaiting approval","approval dated after the activity"))'),
    }
    frame = ctx.result.activities
    if not len(frame):
        return
    col = columns(frame)
    values = {"activity_id": col["activity_id"], "partner_id": col["partner_id"], "date": col["date"],
              "activity": col["activity_text"], "type": col["activity"], "approved_on": col["approved_on"],
              "description": col["description"], "file": col["source_file"], "sheet": col["source_sheet"],
              "row": col["source_row"]}
    cached = {"base": col["base_points"], "needs_approval": [bool(v) for v in col["needs_approval"]],
              "counted": [bool(v) for v in col["counted"]], "points": col["points"], "reason": col["reason"]}
    activities.write_many(len(frame), values, {key: (fs[key], cached[key]) for key in fs})


LEDGER_COLUMNS = ("id", "date", "source", "explanation", "file", "sheet", "row", "amount_f", "amount",
                  "points_f", "points", "target", "text")


def write_ledger(ctx: Context) -> dict[str, list]:
    """Ledger (O3): every point movement, traceable to its source row, ordered by partner, then
    opening balance, sales (each followed by its bonus), activities, adjustments (R17), month
    close. Built as plain lists, one section after another, then put in order by one sort: a
    statement's ten lines cost no more than their strings, and a month's million sale lines
    (already in partner order) are one run for the sort. Returns the rows written, as columns
    (a statement lists them)."""
    tables = ctx.tables
    ledger, partners, sales, activities = tables.ledger, tables.partners, tables.sales, tables.activities
    rules, result = ctx.rules, ctx.result
    bonus_level = rules.level(rules.bonus_level).name
    position = {p.partner_id: i for i, p in enumerate(result.partners)}
    keys: list[tuple[int, int, int]] = []  # (partner, section, line in section): the Ledger's order
    by_key: dict[str, list] = {key: [] for key in LEDGER_COLUMNS}

    def add(order: list[int], section: int, seq: Sequence[int], **values) -> None:
        """Append a section's lines; a value given once holds on every line, a column not given
        is blank."""
        n = len(order)
        keys.extend(zip(order, [section] * n, seq))
        for key, lines in by_key.items():
            value = values.get(key)
            lines.extend(value if isinstance(value, list) else [value] * n)

    n = len(result.partners)
    prows = [str(i) for i in range(2, n + 2)]
    opening = "=" + partners.cell("opening_points", "")
    add(list(range(n)), 0, [0] * n, id=[p.partner_id for p in result.partners], date=result.month,
        source="Opening balance", explanation=[f"Opening points: {p.opening_note}" for p in result.partners],
        points_f=[opening + r for r in prows], points=[p.opening_points for p in result.partners],
        target=[partners.link("opening_points") + r for r in prows],
        text=[f"{partners.name} row {r}" for r in prows])
    frame = result.sales
    if len(frame):
        ids, amounts = column(frame, "partner_id"), column(frame, "amount_usd")
        numbers = [str(i) for i in range(2, len(ids) + 2)]
        amount_f, points_f, bonus_f, target = (
            [start + r for r in numbers] for start in (
                "=" + sales.cell("amount_usd", ""),
                "=" + sales.cell("points", ""),
                "=" + sales.cell("bonus", ""), sales.link("invoice_id")))
        common = {"id": ids, "date": column(frame, "invoice_date"), "file": column(frame, "source_file"),
                  "sheet": column(frame, "source_sheet"), "row": column(frame, "source_row"),
                  "amount": amounts, "amount_f": amount_f, "target": target, "text": column(frame, "invoice_id")}
        order = [position[pid] for pid in ids]
        add(order, 1, range(0, 2 * len(ids), 2), **common,
            source=["Credit note" if a < 0 else "Sale" for a in amounts],
            explanation="R3: 1 point per whole USD_PER_POINT of the amount, truncated",
            points_f=points_f, points=column(frame, "points"))
        bonus = [i for i, status in enumerate(column(frame, "status_at_date")) if status == bonus_level]
        if bonus:
            bonus_points = column(frame, "bonus_points")
            add([order[i] for i in bonus], 1, [2 * i + 1 for i in bonus],
                **{key: [values[i] for i in bonus] for key, values in common.items()},
                source="Early-adopter bonus",
                explanation=f"R4: BONUS_POINTS per whole BONUS_PER_USD while {bonus_level}",
                points_f=[bonus_f[i] for i in bonus], points=[bonus_points[i] for i in bonus])
    frame = result.activities
    if len(frame):
        ids = column(frame, "partner_id")
        numbers = [str(i) for i in range(2, len(ids) + 2)]
        labels = {a.key: a.label for a in rules.activities}
        points_f = "=" + activities.cell("points", "")
        add([position[pid] for pid in ids], 2, range(len(ids)), id=ids, date=column(frame, "date"),
            source="Activity",
            explanation=[f"R5: {labels[key]}" + (f" (not counted: {reason})" if reason else "")
                         for key, reason in zip(column(frame, "activity"), column(frame, "reason"))],
            file=column(frame, "source_file"), sheet=column(frame, "source_sheet"),
            row=column(frame, "source_row"), points_f=[points_f + r for r in numbers],
            points=column(frame, "points"), target=[activities.link("activity_id") + r for r in numbers],
            text=column(frame, "activity_id"))
    frame = result.adjustments
    if len(frame):
        adjustments = tables.adjustments
        ids = column(frame, "partner_id")
        numbers = [str(i) for i in range(2, len(ids) + 2)]
        points_f = "=" + adjustments.cell("points", "")
        add([position[pid] for pid in ids], 3, range(len(ids)), id=ids, date=column(frame, "date"),
            source="Adjustment",
            explanation=[f"R17: {reason} (approved by {by})" + (f"; status set to {status}" if status else "")
                         for reason, by, status in zip(column(frame, "reason"), column(frame, "approved_by"),
                                                       column(frame, "status"))],
            file=column(frame, "source_file"), sheet=column(frame, "source_sheet"),
            row=column(frame, "source_row"), points_f=[points_f + r for r in numbers],
            points=[float(p) for p in column(frame, "points")],
            target=[adjustments.link("adjustment_id") + r for r in numbers], text=column(frame, "adjustment_id"))
    for i, p in enumerate(result.partners):
        adjustment = p.closing_points - (p.opening_points + p.sales_points + p.bonus_points + p.activity_points
                                         + p.adjustment_points)
        if adjustment:
            prow = i + 2
            refs = "+".join(partners.cell(k, prow) for k in ("opening_points", "sales", "bonus", "activity", "adjustment"))
            add([i], 4, [0], id=[p.partner_id], date=result.end, source="Month close",
                explanation=("R10: downgraded, points set to the new level's threshold" if p.rank < p.opening_rank
                             else "R3: the balance never goes below 0"),
                points_f=[f"={partners.cell('closing', prow)}-({refs})"], points=[adjustment],
                target=[partners.link("closing") + str(prow)], text=[f"{partners.name} row {prow}"])
    ordered = sorted(range(len(keys)), key=keys.__getitem__)
    by_key = {key: list(map(lines.__getitem__, ordered)) for key, lines in by_key.items()}
    ledger.write_many(len(ordered), {key: by_key[key] for key in ("id", "date", "source", "explanation", "file", "sheet", "row")},
                      {"amount": (by_key["amount_f"], by_key["amount"]),
                       "points": (by_key["points_f"], by_key["points"])},
                      {"reference": (by_key["target"], by_key["text"])})
    return by_key
