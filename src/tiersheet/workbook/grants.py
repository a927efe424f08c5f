"""What a partner is granted or claims in the month: NFR licences (R13), leads (R14) and co-op
marketing claims (R15)."""

from __future__ import annotations

from ..engine import NfrRow
from ..xlsx import Book, Column, Table
from .common import Context, columns, records, value


def nfr_table(book: Book) -> Table:
    return Table(book, "NFR", [Column("id", "Partner ID", 12), Column("edition", "Edition", 34, "wrap"),
                              Column("entitled_on", "Entitled on", 12, "date"),
                              Column("issued", "Issued or To issue", 14, "wrap")])


def leads_table(book: Book) -> Table:
    return Table(book, "Leads", [
        Column("lead_id", "Lead ID", 12), Column("received_on", "Received on", 10, "date"),
        Column("territory", "Territory", 9), Column("company", "Company", 22, "wrap"), Column("contact", "Contact", 18, "wrap"),
        Column("assigned", "Assigned to", 11), Column("reason", "Reason", 40, "wrap"),
        Column("file", "Source file", 14, "wrap"), Column("sheet", "Source sheet", 11, "wrap"), Column("row", "Source row", 8, "int")])


def coop_table(book: Book) -> Table:
    return Table(book, "Co-op", [
        Column("claim_id", "Claim ID", 12), Column("partner_id", "Partner ID", 11), Column("date", "Date", 11, "date"),
        Column("expense", "Expense USD", 12, "money"), Column("requested", "Requested USD", 12, "money"),
        Column("description", "Description", 30, "wrap"), Column("status", "Status at date", 22, "wrap"),
        Column("eligible", "Eligible", 9, "bool"), Column("reimbursement", "Reimbursement USD", 13, "money"),
        Column("reason", "Reason", 36, "wrap"), Column("file", "Source file", 22, "wrap"), Column("sheet", "Source sheet", 12, "wrap"),
        Column("row", "Source row", 9, "int")], key_columns=2)


def entitled_on(grant: NfrRow, ctx: Context) -> str | None:
    """The formula of a grant's date when it was granted this month: the first Intranet sale's
    date (R12 line) or the month close; None for an earlier month's grant (a carried value)."""
    if grant.month != ctx.result.month:
        return None
    if grant.sale_index is not None:
        return f"={ctx.tables.sales.cell('date', grant.sale_index + 2)}"
    return "=MONTH_END"


def write_nfr(ctx: Context) -> None:
    """NFR (R13): entitlements, issued or to issue."""
    for grant in ctx.result.nfr:
        values = {"id": grant.partner_id, "edition": grant.edition,
                  "issued": "Issued" if grant.issued else "To issue"}
        formula = entitled_on(grant, ctx)
        if formula is None:
            values["entitled_on"] = grant.entitled_on
        ctx.tables.nfr.write(values, {"entitled_on": (formula, grant.entitled_on)} if formula else {})


def write_leads(ctx: Context) -> None:
    """Leads (R14): the month's leads and who got each, or why none."""
    leads = ctx.tables.leads
    frame = ctx.result.leads
    if len(frame):
        col = columns(frame)
        leads.write_many(len(frame), {
            "lead_id": col["lead_id"], "received_on": col["received_on"], "territory": col["territory"],
            "company": col["company"], "contact": col["contact"], "assigned": col["assigned_to"],
            "reason": col["reason"], "file": col["source_file"], "sheet": col["source_sheet"],
            "row": col["source_row"]})


def write_coop(ctx: Context) -> None:
    """Co-op (R15): the month's claims with reimbursement and reason."""
    coop, partners, rows = ctx.tables.coop, ctx.tables.partners, ctx.rows
    t = coop.template
    fs = {
        "eligible": t("=MATCH({status},LEVEL_NAMES,0)>=MATCH(COOP_MIN_LEVEL,LEVEL_NAMES,0)"),
        "reimbursement": t('=IF({eligible},IF({requested}="",COOP_SHARE*{expense},MIN({requested},COOP_SHARE*{expense})),0)'),
        "reason": t('=IF({eligible},IF(AND({requested}<>"",{requested}<COOP_SHARE*{expense}),'
                    '"requested amount (below the cap)",TEXT(COOP_SHARE,"0%")&" of expense (cap)"),'
                    '{status}&": co-op marketing starts at "&COOP_MIN_LEVEL)'),
    }
    minimum = ctx.rules.level(ctx.rules.coop_min_level).rank
    status_ref = partners.cell("opening_status", "")
    for claim in records(ctx.result.claims):
        requested = value(claim["requested_usd"])
        values = {"claim_id": claim["claim_id"], "partner_id": claim["partner_id"], "date": claim["date"],
                  "expense": float(claim["expense_usd"]), "requested": requested,
                  "description": claim["description"], "file": claim["source_file"],
                  "sheet": claim["source_sheet"], "row": claim["source_row"]}
        eligible = ctx.rules.level_by_name(claim["status_at_date"]).rank >= minimum
        formulas = {"status": (f"={status_ref}{rows[claim['partner_id']]}", claim["status_at_date"]),
                    "eligible": (fs["eligible"], eligible),
                    "reimbursement": (fs["reimbursement"], float(claim["reimbursement_usd"])),
                    "reason": (fs["reason"], claim["reason"])}
        coop.write(values, formulas)

