"""The partner's standing at month close, one row per partner: Partners (O2), Requirements
(R6, R7) and Month close (R8, R10). Each derived cell reads the others by direct reference."""

from __future__ import annotations

from datetime import timedelta

from .. import rules as R
from ..config import Rules
from ..xlsx import Book, Column, Table, text_literal
from .common import Context, column, value
from .rules_sheet import name_for
from .formulas import sales_to_next_formula


def partners_table(book: Book, name: str = "Partners") -> Table:
    return Table(book, name, [
        Column("id", "Partner ID", 12), Column("name", "Partner", 24, "wrap"),
        Column("opening_status", "Opening status", 22, "wrap"), Column("opening_points", "Opening points", 10, "int"),
        Column("sales", "Sales points", 10, "int"), Column("bonus", "Bonus points", 10, "int"),
        Column("activity", "Activity points", 10, "int"), Column("adjustment", "Adjustment points", 10, "int"),
        Column("closing", "Closing points", 10, "int"),
        Column("status", "Status", 22, "wrap"), Column("change", "Change", 11),
        Column("margin", "Margin %", 9, "pct"), Column("next", "Next status", 22, "wrap"),
        Column("to_next", "Points to next", 10, "int"), Column("missing", "Missing for status", 36, "wrap"),
        Column("missing_next", "Missing for next", 40, "wrap"),
        Column("expires", "Certificate expires", 12, "date"), Column("at_risk", "At risk", 8),
        Column("sales_to_next", "Sales to next (USD)", 11, "int")], key_columns=2)


def requirements_table(book: Book, rules: Rules) -> Table:
    levels = rules.levels
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
    return Table(book, "Requirements", req_columns, key_columns=2)


def close_table(book: Book, rules: Rules) -> Table:
    levels = rules.levels
    return Table(book, "Month close", [
        Column("id", "Partner ID", 12), Column("opening_status", "Opening status", 22, "wrap"),
        Column("opening_level", "Opening level", 9, "int"), Column("points_before", "Points before close", 11, "int"),
        *[Column(f"meets_{lv.rank}", f"Meets {lv.name}", 11, "bool") for lv in levels],
        Column("cert", "Certificate on file expires", 12, "date"), Column("cert_note", "Certificate on file", 30, "wrap"),
        Column("lapsed_before", "Lapsed at an earlier close", 10, "bool"),
        Column("held_until", "Level held until (R17)", 11, "date"), Column("held", "Held: no downgrade", 10, "bool"),
        Column("expiring", "Expires by month end", 10, "bool"), Column("meets_opening", "Meets opening level", 10, "bool"),
        Column("downgrade", "Downgrade", 10, "bool"), Column("down_to", "Downgrade to level", 10, "int"),
        Column("up_to", "Upgrade to level", 10, "int"), Column("override_level", "Override level (R17)", 10, "int"),
        Column("override", "Override and its reason", 36, "wrap"), Column("closing_level", "Closing level", 9, "int"),
        Column("intranet_used", "Intranet discount used before", 11, "bool"),
        Column("intranet_note", "Why", 30, "wrap")])


def write_partners(ctx: Context) -> None:
    """Partners (O2): every derived column reads Month close, Requirements and the event sheets."""
    tables = ctx.tables
    partners, requirements, close = tables.partners, tables.requirements, tables.close
    sales, activities = tables.sales, tables.activities
    sales_blocks, activity_blocks, adjustment_blocks = ctx.sales_blocks, ctx.activity_blocks, ctx.adjustment_blocks
    adjustments = tables.adjustments
    rules = ctx.rules
    levels = rules.levels
    n = len(levels)
    mc = {key: close.row_ref(key) for key in close.letter}
    meets = f"{close.row_ref('meets_1')}:{close.letter[f'meets_{n}']}#"
    missing = ",".join(requirements.row_ref(f"missing_{lv.rank}") for lv in levels)
    level = mc["closing_level"]
    t = partners.template
    opening, override = mc["opening_level"], mc["override_level"]
    # R10, R17: points go to the threshold whenever the level goes down
    closing_f = t(f"=IF({level}<{opening},INDEX(THRESHOLDS,{level}),{mc['points_before']})")
    status_f = f"=INDEX(LEVEL_NAMES,{level})"
    change_f = (f'=IF({level}<{opening},"Downgrade",IF({level}>{opening},"Upgrade",IF({override}<>"","Renewed",'
                f'IF({mc["expiring"]},IF({mc["meets_opening"]},"Renewed",IF({mc["lapsed_before"]},"","Lapsed")),""))))')
    margin_f = f"=INDEX(MARGINS,{level})"
    next_f = f'=IF({level}<ROWS(LEVEL_NAMES),INDEX(LEVEL_NAMES,{level}+1),"")'
    to_next_f = t(f'=IF({level}<ROWS(LEVEL_NAMES),MAX(0,INDEX(THRESHOLDS,{level}+1)-{{closing}}),"")')
    missing_f = f"=CHOOSE({level},{missing})"
    missing_next_f = f'=IF({level}<ROWS(LEVEL_NAMES),CHOOSE({level}+1,{missing}),"")'
    renew = f"EDATE({mc['cert']},CERT_MONTHS)"
    expires_f = (f"=IF(OR({override}<>\"\",{level}<>{opening}),EDATE(MONTH_END,CERT_MONTHS),"
                 f"IF(AND({mc['expiring']},{mc['meets_opening']}),IF({renew}>MONTH_END,{renew},"
                 f"EDATE(MONTH_END,CERT_MONTHS)),{mc['cert']}))")
    at_risk_f = f'=IF(INDEX({meets},1,{level}),"no","yes")'
    # O5: the way up for every partner, the statement's formula over this row
    bonus_f = ('IF(AND({status}=BONUS_LEVEL,BONUS_POINTS>0,OR(BONUS_FROM="",MONTH_END+1>=BONUS_FROM),'
               'OR(BONUS_UNTIL="",MONTH_END+1<=BONUS_UNTIL)),"yes","no")')
    sales_to_next_f = t(sales_to_next_formula("{to_next}", bonus_f))
    next_day = ctx.result.end + timedelta(days=1)
    buffer = []
    for p in ctx.result.partners:
        status = levels[p.rank - 1]
        nxt = levels[p.rank] if p.rank < n else None
        s = sales_blocks.get(p.partner_id)
        a = activity_blocks.get(p.partner_id)
        j = adjustment_blocks.get(p.partner_id)
        to_next = max(0, nxt.threshold - p.closing_points) if nxt else ""
        bonus = R.bonus_applies(status.name, next_day, rules)
        formulas = {
            "sales": (f"=SUM({sales.span('points', *s)})" if s else "=0", p.sales_points),
            "bonus": (f"=SUM({sales.span('bonus', *s)})" if s else "=0", p.bonus_points),
            "activity": (f"=SUM({activities.span('points', *a)})" if a else "=0", p.activity_points),
            "adjustment": (f"=SUM({adjustments.span('points', *j)})" if j else "=0", p.adjustment_points),
            "closing": (closing_f, p.closing_points),
            "status": (status_f, status.name),
            "change": (change_f, p.change),
            "margin": (margin_f, status.margin),
            "next": (next_f, nxt.name if nxt else ""),
            "to_next": (to_next_f, to_next),
            "sales_to_next": (sales_to_next_f, R.sales_to_next(to_next, bonus, rules) if nxt else ""),
            "missing": (missing_f, "; ".join(p.missing[p.rank])),
            "missing_next": (missing_next_f, "; ".join(p.missing[nxt.rank]) if nxt else ""),
            "expires": (expires_f, p.certificate_expires),
            "at_risk": (at_risk_f, "no" if p.meets[p.rank] else "yes"),
        }
        buffer.append(({"id": p.partner_id, "name": p.name,
                        "opening_status": levels[p.opening_rank - 1].name,
                        "opening_points": p.opening_points}, formulas))
    partners.write_rows(buffer)


def write_requirements(ctx: Context) -> None:
    """Requirements (R6, R7): the snapshot's values, met or not per level, what is missing."""
    requirements, close, partners, sales = ctx.tables.requirements, ctx.tables.close, ctx.tables.partners, ctx.tables.sales
    sales_blocks = ctx.sales_blocks
    rules, levels = ctx.rules, ctx.rules.levels
    t = requirements.template
    meets_f, missing_f = {}, {}
    for lv in levels:
        conditions, parts = [], []
        for req, _ in rules.asked[lv.rank]:
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
    level = close.row_ref("closing_level")
    meets_range = t("{meets_1}") + ":" + t("{meets_" + str(len(levels)) + "}")
    buffer = []
    for p in ctx.result.partners:
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
        formulas["status"] = ("=" + partners.row_ref("status"), levels[p.rank - 1].name)
        formulas["meets_status"] = (f"=INDEX({meets_range},1,{level})", p.meets[p.rank])
        formulas["next"] = ("=" + partners.row_ref("next"), levels[p.rank].name if p.rank < n else "")
        formulas["meets_next"] = (f'=IF({level}<ROWS(LEVEL_NAMES),INDEX({meets_range},1,{level}+1),"")',
                                  p.meets[p.rank + 1] if p.rank < n else "")
        buffer.append((values, formulas))
    requirements.write_rows(buffer)


def write_close(ctx: Context) -> None:
    """Month close (R8, R10): how the closing level came about."""
    close, partners, requirements = ctx.tables.close, ctx.tables.partners, ctx.tables.requirements
    adjustments = ctx.tables.adjustments
    levels = ctx.rules.levels
    n = len(levels)
    t = close.template
    pr = {key: partners.row_ref(key) for key in partners.letter}
    rq = {key: requirements.row_ref(key) for key in requirements.letter}
    meets_range = t("{meets_1}") + ":" + t("{meets_" + str(n) + "}")
    down_terms = "".join(f",IF(AND({{opening_level}}>{k},{{meets_{k}}}),{k},0)" for k in range(2, n))
    up_terms = "".join(f",IF(AND({{points_before}}>={name_for('THRESHOLD', lv.key)},{{meets_{lv.rank}}}),{lv.rank},0)"
                       for lv in levels[1:])
    fs = {
        "opening_status": f"={pr['opening_status']}",
        "opening_level": t("=MATCH({opening_status},LEVEL_NAMES,0)"),
        "points_before": f"=MAX(0,{pr['opening_points']}+{pr['sales']}+{pr['bonus']}+{pr['activity']}+{pr['adjustment']})",
        "expiring": t("={cert}<=MONTH_END"),
        "held": t('=AND({held_until}<>"",{held_until}>MONTH_END)'),
        "meets_opening": t(f"=INDEX({meets_range},1,{{opening_level}})"),
        "downgrade": t('=AND({opening_level}>1,NOT({meets_opening}),NOT({held}),OR({expiring},DOWNGRADE_MODE="month_end"))'),
        "down_to": t("=MAX(1" + down_terms + ")"),
        "up_to": t("=MAX({opening_level}" + up_terms + ")"),
        "closing_level": t('=IF({override_level}<>"",{override_level},IF({downgrade},{down_to},{up_to}))'),
    }
    for lv in levels:
        fs[f"meets_{lv.rank}"] = f"={rq[f'meets_{lv.rank}']}"
    until = column(ctx.result.adjustments, "until") if len(ctx.result.adjustments) else []  # R17: held until
    buffer = []
    for p in ctx.result.partners:
        down_to = R.downgrade_rank(p.opening_rank, p.meets)
        up_to = R.upgrade_rank(p.opening_rank, p.points_before, p.meets, ctx.rules)
        cached = {"opening_status": levels[p.opening_rank - 1].name, "opening_level": p.opening_rank,
                  "points_before": p.points_before, "expiring": p.expiring,
                  "meets_opening": p.meets[p.opening_rank], "downgrade": p.downgrade,
                  "down_to": down_to, "up_to": up_to, "closing_level": p.rank,
                  "held": p.held_until is not None and p.held_until > ctx.result.month}
        cached.update({f"meets_{lv.rank}": p.meets[lv.rank] for lv in levels})
        formulas = {key: (formula, cached[key]) for key, formula in fs.items()}
        if p.override_rank is not None:  # R17: the level and the words come from the Adjustments row
            row = p.override_index + 2
            formulas["override_level"] = (f"=MATCH({adjustments.cell('status', row)},LEVEL_NAMES,0)", p.override_rank)
            formulas["override"] = (f'={adjustments.cell("status", row)}&": "&{adjustments.cell("reason", row)}'
                                    f'&" (approved by "&{adjustments.cell("approved_by", row)}&"; "'
                                    f'&{adjustments.cell("adjustment_id", row)}'
                                    + (f'&", held until the close of "&{adjustments.cell("until", row)}'
                                       if until[p.override_index] else "")
                                    + '&")"', p.override_note)
        why = ("snapshot says prior Intranet sale" if p.snapshot["prior_intranet_sale"] else
               "given in an earlier month" if p.intranet_used_before else "")
        buffer.append(({"id": p.partner_id, "cert": p.certificate_on_file,
                        "cert_note": p.certificate_note, "lapsed_before": p.lapsed_before,
                        "held_until": p.held_until,
                        "intranet_used": p.intranet_used_before, "intranet_note": why}, formulas))
    close.write_rows(buffer)

# -- Sales (R3, R4, R11, R12)
