"""The month's events, one row per input line: Sales (R3, R4, R11, R12), Activities (R5),
Adjustments (R17), and the Ledger of every point movement (O3) that cites them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..xlsx import Book, Column, Table
from .common import Context


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
    col = {name: frame[name].tolist() for name in frame.columns}
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
    count_first = t("=IF({intranet},1,0)+IF(") + close.ref + "!" + close.letter["intranet_used"] + "@,1,0)"
    count_next = t("={intranet_count}") .replace("#", "$PREV$") + t("+IF({intranet},1,0)")
    status_ref = partners.ref + "!$" + partners.letter["opening_status"] + "$@"
    amount_usd_f = t("=ROUND({amount}*{rate},2)")
    frame = ctx.result.sales
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
    col = {name: frame[name].tolist() for name in frame.columns}
    values = {"activity_id": col["activity_id"], "partner_id": col["partner_id"], "date": col["date"],
              "activity": col["activity_text"], "type": col["activity"], "approved_on": col["approved_on"],
              "description": col["description"], "file": col["source_file"], "sheet": col["source_sheet"],
              "row": col["source_row"]}
    cached = {"base": col["base_points"], "needs_approval": [bool(v) for v in col["needs_approval"]],
              "counted": [bool(v) for v in col["counted"]], "points": col["points"], "reason": col["reason"]}
    activities.write_many(len(frame), values, {key: (fs[key], cached[key]) for key in fs})


def write_ledger(ctx: Context) -> dict[str, list]:
    """Ledger (O3): every point movement, traceable to its source row. Built as columns (a
    million sale lines make a million ledger rows) and ordered by partner, then opening
    balance, sales (each followed by its bonus), activities, adjustments (R17), month close. Returns the
    rows written, as columns (a statement lists them)."""
    tables = ctx.tables
    ledger, partners, sales, activities = tables.ledger, tables.partners, tables.sales, tables.activities
    rules, result = ctx.rules, ctx.result
    bonus_level = rules.level(rules.bonus_level).name
    position = {p.partner_id: i for i, p in enumerate(result.partners)}
    prows = pd.Series(range(2, len(result.partners) + 2), dtype="int64").astype(str)
    pieces = [pd.DataFrame({
        "order": range(len(result.partners)), "section": 0, "seq": 0,
        "id": [p.partner_id for p in result.partners], "date": result.month,
        "source": "Opening balance", "explanation": [f"Opening points: {p.opening_note}" for p in result.partners],
        "points_f": "=" + partners.ref + "!$" + partners.letter["opening_points"] + "$" + prows,
        "points": [p.opening_points for p in result.partners],
        "target": partners.link("opening_points") + prows, "text": f"{partners.name} row " + prows})]
    frame = result.sales
    if len(frame):
        numbers = pd.Series(range(2, len(frame) + 2), dtype="int64").astype(str)
        common = {"order": frame["partner_id"].map(position).to_numpy(), "section": 1,
                  "id": frame["partner_id"].to_numpy(), "date": frame["invoice_date"].to_numpy(),
                  "file": frame["source_file"].to_numpy(), "sheet": frame["source_sheet"].to_numpy(),
                  "row": frame["source_row"].to_numpy(), "amount": frame["amount_usd"].to_numpy(),
                  "amount_f": ("=" + sales.ref + "!$" + sales.letter["amount_usd"] + "$" + numbers).to_numpy(),
                  "target": (sales.link("invoice_id") + numbers).to_numpy(), "text": frame["invoice_id"].to_numpy()}
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
            "points": frame["points"].to_numpy(), "target": (activities.link("activity_id") + numbers).to_numpy(),
            "text": frame["activity_id"].to_numpy()}))
    frame = result.adjustments
    if len(frame):
        adjustments = tables.adjustments
        numbers = pd.Series(range(2, len(frame) + 2), dtype="int64").astype(str)
        status = frame["status"].map(lambda s: f"; status set to {s}" if s else "")
        pieces.append(pd.DataFrame({
            "order": frame["partner_id"].map(position).to_numpy(), "section": 3,
            "seq": np.arange(len(frame)), "id": frame["partner_id"].to_numpy(),
            "date": frame["date"].to_numpy(), "source": "Adjustment",
            "explanation": ("R17: " + frame["reason"].astype(str) + " (approved by "
                            + frame["approved_by"].astype(str) + ")" + status).to_numpy(),
            "file": frame["source_file"].to_numpy(), "sheet": frame["source_sheet"].to_numpy(),
            "row": frame["source_row"].to_numpy(),
            "points_f": ("=" + adjustments.ref + "!$" + adjustments.letter["points"] + "$" + numbers).to_numpy(),
            "points": frame["points"].astype(float).to_numpy(),
            "target": (adjustments.link("adjustment_id") + numbers).to_numpy(),
            "text": frame["adjustment_id"].to_numpy()}))
    closes = []
    for i, p in enumerate(result.partners):
        adjustment = p.closing_points - (p.opening_points + p.sales_points + p.bonus_points + p.activity_points
                                         + p.adjustment_points)
        if adjustment:
            prow = i + 2
            refs = "+".join(partners.cell(k, prow) for k in ("opening_points", "sales", "bonus", "activity", "adjustment"))
            closes.append({
                "order": i, "section": 4, "seq": 0, "id": p.partner_id, "date": result.end,
                "source": "Month close",
                "explanation": ("R10: downgraded, points set to the new level's threshold" if p.rank < p.opening_rank
                                else "R3: the balance never goes below 0"),
                "points_f": f"={partners.cell('closing', prow)}-({refs})", "points": adjustment,
                "target": partners.link("closing") + str(prow), "text": f"{partners.name} row {prow}"})
    if closes:
        pieces.append(pd.DataFrame(closes))
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
    return column

